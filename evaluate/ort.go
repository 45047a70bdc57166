package evaluate

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/export/modelinfo"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// Model is a segmentation model in onnxruntime, whose Forward plugs into Run. It accepts
// what `ssl4dp export` writes — logits [N,K,H,W], or with --argmax class indices [N,H,W] —
// and any other ONNX model with one image input [N,3,H,W] and a logits output.
type Model struct {
	Path   string
	Info   modelinfo.Info // the model's metadata (classes, normalisation, how it was trained)
	Input  ort.ValueInfo  // the image input, as declared
	Output ort.ValueInfo  // the output Forward reads
	// Classes is the number of classes the model predicts: the declared logits channels, or
	// for a label model the metadata's count; 0 when neither says (Run then checks the first
	// forward pass against the dataset).
	Classes int
	Argmax  bool // Output holds class indices (int64), not logits

	s *ort.Session
}

// OpenModel loads path into onnxruntime (the library must already be initialised with
// ort.Init, or is found by ort.LibraryPath). A file that is not an ONNX model, or not a
// segmentation model, is an *onnx.FormatError naming the file.
func OpenModel(path string, o ort.Options) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, &onnx.FormatError{File: path, Msg: "no such file"}
		}
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	mp, err := onnx.Decode(b, path)
	if err != nil {
		return nil, err
	}
	m := &Model{Path: path}
	if m.Info, err = modelinfo.Read(mp); err != nil {
		return nil, &onnx.FormatError{File: path, Msg: err.Error()}
	}
	if m.Info.Output == "encoder" {
		return nil, &onnx.FormatError{File: path, Msg: "this is an encoder export (features, no classes); evaluate needs a segmentation model (ssl4dp export --what seg)"}
	}
	if m.s, err = ort.NewSession(b, o); err != nil {
		return nil, err
	}
	if err := m.describe(); err != nil {
		m.s.Close()
		return nil, err
	}
	return m, nil
}

// pretextOutputs are graphs' outputs that are not segmentation logits.
var pretextOutputs = []string{graphs.Features, graphs.LowLevel, graphs.DecoderFeatures, graphs.Projection,
	graphs.Prediction, graphs.DenseProjection, graphs.RotationLogits, graphs.ClassLogits}

// describe finds the image input and the output, and the class count.
func (m *Model) describe() error {
	bad := func(format string, args ...any) error {
		return &onnx.FormatError{File: m.Path, Msg: fmt.Sprintf(format, args...)}
	}
	ins, outs := m.s.Inputs(), m.s.Outputs()
	names := func(vs []ort.ValueInfo) string {
		var s []string
		for _, v := range vs {
			s = append(s, fmt.Sprintf("%q %s %s", v.Name, v.Type, ort.ShapeString(v.Shape)))
		}
		return strings.Join(s, ", ")
	}
	if len(ins) != 1 || ins[0].Type != "float32" || (ins[0].Shape != nil && (len(ins[0].Shape) != 4 || (ins[0].Shape[1] >= 0 && ins[0].Shape[1] != 3))) {
		return bad("the model's inputs are %s; evaluate needs one float image input [N,3,H,W]", names(ins))
	}
	m.Input = ins[0]
	pick := -1
	for i, o := range outs {
		if o.Name == "labels" || o.Name == "logits" {
			pick = i
			break
		}
	}
	if pick < 0 && len(outs) == 1 {
		if slices.Contains(pretextOutputs, outs[0].Name) {
			return bad("its only output %q is a pre-training head's, not segmentation logits; fine-tune it first (ssl4dp train seg) and export that", outs[0].Name)
		}
		pick = 0
	}
	if pick < 0 {
		return bad("the model has outputs %s and none is called \"logits\" or \"labels\"; export it with ssl4dp export --what seg", names(outs))
	}
	m.Output = outs[pick]
	shape := m.Output.Shape
	switch m.Output.Type {
	case "float32":
		if shape != nil && len(shape) != 4 {
			return bad("output %q has shape %s; evaluate needs logits [N,K,H,W]", m.Output.Name, ort.ShapeString(shape))
		}
		if shape != nil && shape[1] > 0 {
			m.Classes = int(shape[1])
		}
	case "int64":
		if shape != nil && len(shape) != 3 {
			return bad("output %q has shape %s; evaluate needs class indices [N,H,W]", m.Output.Name, ort.ShapeString(shape))
		}
		m.Argmax = true
	default:
		return bad("output %q is %s; evaluate needs float32 logits or int64 class indices", m.Output.Name, m.Output.Type)
	}
	if m.Classes == 0 {
		m.Classes = m.Info.NumClasses
	}
	if m.Classes > 0 && m.Info.NumClasses > 0 && m.Classes != m.Info.NumClasses {
		return bad("output %q has %d channels but the metadata says %s = %d", m.Output.Name, m.Classes, modelinfo.KeyNumClasses, m.Info.NumClasses)
	}
	if m.Argmax && m.Classes == 0 {
		return bad("output %q holds class indices but the model does not say how many classes there are (metadata %s)", m.Output.Name, modelinfo.KeyNumClasses)
	}
	return nil
}

// ClassError is a model whose class count differs from the dataset's: bad input (exit 2).
type ClassError struct {
	Model, Data   string
	ModelK, DataK int
	DataClasses   []string
}

func (e *ClassError) Error() string {
	return fmt.Sprintf("evaluate: %s predicts %d classes, but %s has %d (%s)", e.Model, e.ModelK, e.Data, e.DataK, strings.Join(e.DataClasses, ", "))
}

// ExitCode makes the CLI exit with 2.
func (e *ClassError) ExitCode() int { return 2 }

// CheckClasses compares the model's class count with the dataset's before anything runs.
func (m *Model) CheckClasses(ds data.Dataset) error {
	k := len(ds.Classes())
	if m.Classes > 0 && m.Classes != k {
		return &ClassError{Model: m.Path, Data: ds.Name(), ModelK: m.Classes, DataK: k, DataClasses: ds.Classes()}
	}
	return nil
}

// Fixed returns the input's fixed batch, height and width (0 where dynamic).
func (m *Model) Fixed() (n, h, w int) {
	s := m.Input.Shape
	if s == nil {
		return 0, 0, 0
	}
	f := func(d int64) int { return int(max(d, 0)) }
	return f(s[0]), f(s[2]), f(s[3])
}

// Forward runs the model on prepared images for Run. A model with a fixed batch size gets
// its batches split or zero-padded to that size; a label model's class indices come back as
// one-hot logits (1 for the predicted class), so Run's argmax returns them unchanged when the
// network answers at the mask's size.
func (m *Model) Forward(images data.Tensor) (data.Tensor, error) {
	n := images.Shape[0]
	fixedN, _, _ := m.Fixed()
	step := n
	if fixedN > 0 {
		step = fixedN
	}
	per := len(images.Data) / max(n, 1)
	var out data.Tensor
	for i := 0; i < n; i += step {
		chunk := min(step, n-i)
		x := images.Data[i*per : (i+chunk)*per]
		if chunk < step { // pad a short last batch for a fixed-batch model
			x = append(append(make([]float32, 0, step*per), x...), make([]float32, (step-chunk)*per)...)
		}
		shape := []int64{int64(step), int64(images.Shape[1]), int64(images.Shape[2]), int64(images.Shape[3])}
		res, err := m.s.Run(map[string]ort.Tensor{m.Input.Name: {Shape: shape, Data: x}})
		if err != nil {
			return data.Tensor{}, err
		}
		logits, err := m.logits(res[m.Output.Name])
		if err != nil {
			return data.Tensor{}, err
		}
		if out.Shape == nil {
			out.Shape = append([]int{n}, logits.Shape[1:]...)
			out.Data = make([]float32, 0, n*len(logits.Data)/step)
		}
		out.Data = append(out.Data, logits.Data[:chunk*len(logits.Data)/step]...)
	}
	return out, nil
}

// logits converts one onnxruntime output to [N,K,H,W] float32.
func (m *Model) logits(t ort.Tensor) (data.Tensor, error) {
	shape := make([]int, len(t.Shape))
	for i, d := range t.Shape {
		shape[i] = int(d)
	}
	switch v := t.Data.(type) {
	case []float32:
		return data.Tensor{Shape: shape, Data: v}, nil
	case []int64:
		if len(shape) != 3 {
			return data.Tensor{}, fmt.Errorf("evaluate: %s: labels of shape %v, want [N,H,W]", m.Path, shape)
		}
		k, hw := m.Classes, shape[1]*shape[2]
		out := data.Tensor{Shape: []int{shape[0], k, shape[1], shape[2]}, Data: make([]float32, shape[0]*k*hw)}
		for i, l := range v {
			if l < 0 || l >= int64(k) {
				return data.Tensor{}, fmt.Errorf("evaluate: %s predicts class %d at pixel %d, outside [0, %d)", m.Path, l, i, k)
			}
			out.Data[(i/hw*k+int(l))*hw+i%hw] = 1
		}
		return out, nil
	}
	return data.Tensor{}, fmt.Errorf("evaluate: %s: output %q is %T", m.Path, m.Output.Name, t.Data)
}

// Close releases the onnxruntime session.
func (m *Model) Close() error { return m.s.Close() }
