package check

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// OutputError is one output's disagreement between the importer and onnxruntime.
type OutputError struct {
	Name   string  `json:"name"`
	Shape  []int   `json:"shape"`
	MaxAbs float64 `json:"max_abs"` // max |importer − onnxruntime|
	MaxRel float64 `json:"max_rel"` // MaxAbs / max |onnxruntime|: the error relative to the output's scale
}

// ForwardReport is the result of Forward.
type ForwardReport struct {
	Inputs   map[string][]int // the shapes used
	Outputs  []OutputError    // in graph output order
	Warnings []string         // the importer's warnings (folded BatchNorm, tied initializers)
}

// Forward runs the model in evaluation mode through the importer (float32) and through
// onnxruntime (the model's inference form, so that BatchNorm uses running statistics in
// both) on the same seeded random input, and reports each output's error.
func Forward(mp *pb.ModelProto, o Options) (*ForwardReport, error) {
	o = o.withDefaults()
	shapes, err := inputShapes(mp, o)
	if err != nil {
		return nil, err
	}
	m, err := importer.Import(mp, importer.Options{InputShapes: shapes, AllowTied: true})
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	outs, err := m.Outputs()
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	values := randomInputs(shapes, o.Seed)
	if err := bind(m, shapes, values); err != nil {
		return nil, err
	}
	vm := G.NewTapeMachine(m.Graph)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return nil, fmt.Errorf("check: importer forward pass: %w", err)
	}

	inf, err := importer.InferenceForm(mp)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	b, err := onnx.Encode(inf)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	s, err := ort.NewSession(b, ort.Options{})
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	defer s.Close()
	feed := map[string]ort.Tensor{}
	for name, v := range values {
		sh := make([]int64, len(shapes[name]))
		for d, n := range shapes[name] {
			sh[d] = int64(n)
		}
		feed[name] = ort.Tensor{Shape: sh, Data: v}
	}
	want, err := s.Run(feed)
	if err != nil {
		return nil, fmt.Errorf("check: %w", err)
	}
	rep := &ForwardReport{Inputs: shapes, Warnings: m.Warnings()}
	for i, name := range m.OutputNames() {
		w, ok := want[name]
		if !ok {
			return nil, fmt.Errorf("check: onnxruntime gave no output %q", name)
		}
		ref, err := refFloats(w.Data)
		if err != nil {
			return nil, fmt.Errorf("check: output %q: %w", name, err)
		}
		got := importer.Float64s(outs[i].Value())
		if len(got) != len(ref) {
			return nil, fmt.Errorf("check: output %q has %d values, onnxruntime's %d", name, len(got), len(ref))
		}
		e := OutputError{Name: name, Shape: outs[i].Shape().Clone()}
		scale := 0.0
		for j := range ref {
			e.MaxAbs = math.Max(e.MaxAbs, math.Abs(got[j]-ref[j]))
			scale = math.Max(scale, math.Abs(ref[j]))
			if math.IsNaN(got[j]) != math.IsNaN(ref[j]) {
				e.MaxAbs = math.Inf(1)
			}
		}
		e.MaxRel = e.MaxAbs / math.Max(scale, 1e-30)
		rep.Outputs = append(rep.Outputs, e)
	}
	return rep, nil
}

func refFloats(data any) ([]float64, error) {
	switch d := data.(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out, nil
	case []float64:
		return d, nil
	}
	return nil, fmt.Errorf("onnxruntime output of type %T; only float outputs are compared", data)
}
