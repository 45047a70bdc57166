package export

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// Check is one verification of the export: onnxruntime running the exported model against
// Gorgonia running the trained network (evaluation mode) on the same seeded input.
type Check struct {
	Input  []int   `json:"input"`   // the input shape
	Output []int   `json:"output"`  // the exported output's shape
	MaxAbs float64 `json:"max_abs"` // max |onnxruntime − Gorgonia| over the output
	MaxRel float64 `json:"max_rel"` // MaxAbs / max |Gorgonia|
	// With --argmax: pixels whose label differs from the argmax of Gorgonia's logits by
	// more than a near-tie (top-two gap ≤ Tol × max |logit|), and the pixels compared.
	LabelErrors int `json:"label_errors,omitempty"`
	Labels      int `json:"labels,omitempty"`
}

// seededInput draws N(0,1) values for shape from seed (the same seed, the same input).
func seededInput(shape []int, seed int64) []float32 {
	n := 1
	for _, d := range shape {
		n *= d
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x5ee1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// reference runs m through the importer (Gorgonia, float32, evaluation mode: BatchNorm with
// its running statistics) on x and returns output's values and shape.
func reference(m *pb.ModelProto, input, output string, shape []int, x []float32) ([]float32, []int, error) {
	im, err := importer.Import(m, importer.Options{InputShapes: map[string][]int{input: shape}, AllowTied: true})
	if err != nil {
		return nil, nil, fmt.Errorf("export: the trained network does not import into Gorgonia, so the export cannot be checked: %w", err)
	}
	im.SetTraining(false)
	out, err := im.Output(output)
	if err != nil {
		return nil, nil, fmt.Errorf("export: %w", err)
	}
	in, err := im.Input(input)
	if err != nil {
		return nil, nil, fmt.Errorf("export: %w", err)
	}
	if err := G.Let(in, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32{}, x...)))); err != nil {
		return nil, nil, fmt.Errorf("export: binding the input: %w", err)
	}
	vm := G.NewTapeMachine(im.Graph)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return nil, nil, fmt.Errorf("export: Gorgonia forward pass at %v: %w", shape, err)
	}
	v, ok := out.Value().Data().([]float32)
	if !ok {
		return nil, nil, fmt.Errorf("export: Gorgonia output %q is %T, want []float32", output, out.Value().Data())
	}
	return append([]float32{}, v...), out.Shape().Clone(), nil
}

// runORT runs a model on one input and returns its only output.
func runORT(m *pb.ModelProto, input string, shape []int, x []float32, o ort.Options) (ort.Tensor, error) {
	b, err := onnx.Encode(m)
	if err != nil {
		return ort.Tensor{}, fmt.Errorf("export: %w", err)
	}
	s, err := ort.NewSession(b, o)
	if err != nil {
		return ort.Tensor{}, fmt.Errorf("export: onnxruntime cannot load the export: %w", err)
	}
	defer s.Close()
	outs, err := s.Run(map[string]ort.Tensor{input: {Shape: ints64(shape), Data: x}})
	if err != nil {
		return ort.Tensor{}, fmt.Errorf("export: onnxruntime cannot run the export at %v: %w", shape, err)
	}
	if len(outs) != 1 {
		return ort.Tensor{}, fmt.Errorf("export: the export has %d outputs, want 1", len(outs))
	}
	return outs[s.Outputs()[0].Name], nil
}

// compare fills c's error fields from onnxruntime's output and Gorgonia's.
func compare(c *Check, got ort.Tensor, want []float32, wantShape []int) error {
	g, ok := got.Data.([]float32)
	if !ok {
		return fmt.Errorf("export: onnxruntime output is %T, want float32", got.Data)
	}
	if !equalShape(got.Shape, wantShape) {
		return fmt.Errorf("export: onnxruntime output shape %v, Gorgonia's %v", got.Shape, wantShape)
	}
	c.Output = wantShape
	scale := 0.0
	for i, w := range want {
		d := math.Abs(float64(g[i]) - float64(w))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		c.MaxAbs = math.Max(c.MaxAbs, d)
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	c.MaxRel = c.MaxAbs / math.Max(scale, 1e-30)
	return nil
}

// compareLabels checks onnxruntime's class map ([N,H,W] int64) against the argmax over
// dimension 1 of Gorgonia's logits ([N,K,H,W]). A pixel may differ only where Gorgonia's
// best two logits are within tol × max |logit| of each other (a near-tie that rounding can
// flip).
func compareLabels(c *Check, got ort.Tensor, logits []float32, shape []int, tol float64) error {
	labels, ok := got.Data.([]int64)
	if !ok {
		return fmt.Errorf("export: onnxruntime label output is %T, want int64", got.Data)
	}
	n, k, hw := shape[0], shape[1], 1
	for _, d := range shape[2:] {
		hw *= d
	}
	if want := []int{n}; !equalShape(got.Shape, append(want, shape[2:]...)) {
		return fmt.Errorf("export: onnxruntime label shape %v, want %v", got.Shape, append(want, shape[2:]...))
	}
	scale := 0.0
	for _, v := range logits {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	c.Output = onnxShape(got.Shape)
	c.Labels = len(labels)
	for b := 0; b < n; b++ {
		for p := 0; p < hw; p++ {
			at := func(cl int) float64 { return float64(logits[(b*k+cl)*hw+p]) }
			best := 0
			for cl := 1; cl < k; cl++ {
				if at(cl) > at(best) {
					best = cl
				}
			}
			l := labels[b*hw+p]
			if l < 0 || l >= int64(k) || at(best)-at(int(l)) > tol*scale {
				c.LabelErrors++
			}
		}
	}
	return nil
}

func equalShape(a []int64, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != int64(b[i]) {
			return false
		}
	}
	return true
}

func ints64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

func onnxShape(s []int64) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}
