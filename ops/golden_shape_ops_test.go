package ops

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The golden file is written by scripts/gen_ops_golden_b.py from PyTorch 1.13 and numpy; see
// its docstring for what each reference is.

type goldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

func (g goldenTensor) dense() *tensor.Dense {
	shape := g.Shape
	if len(shape) == 0 {
		shape = []int{1}
	}
	return bDense(shape, g.Data)
}

type goldenCase struct {
	Name   string          `json:"name"`
	Op     string          `json:"op"`
	Params json.RawMessage `json:"params"`
	Inputs []goldenTensor  `json:"inputs"`
	Output goldenTensor    `json:"output"`
	Grads  []goldenTensor  `json:"grads"`
}

type goldenParams struct {
	Size    []int   `json:"size"`
	Mode    string  `json:"mode"`
	Coord   string  `json:"coord"`
	Nearest string  `json:"nearest"`
	Axis    int     `json:"axis"`
	Log     bool    `json:"log"`
	Ignore  int     `json:"ignore"`
	Pads    []int   `json:"pads"`
	Value   float64 `json:"value"`
	Axes    []int   `json:"axes"`
	Keep    bool    `json:"keep"`
	Mean    bool    `json:"mean"`
	Starts  []int   `json:"starts"`
	Ends    []int   `json:"ends"`
	Steps   []int   `json:"steps"`
	Perm    []int   `json:"perm"`
	Kind    string  `json:"kind"`
	Eps     float64 `json:"eps"`
}

// goldenBuild returns the Go op a golden case describes.
func goldenBuild(c goldenCase) (func(G.Nodes) (*G.Node, error), error) {
	var p goldenParams
	if err := json.Unmarshal(c.Params, &p); err != nil {
		return nil, err
	}
	switch c.Op {
	case "resize":
		mode := map[string]ResizeMode{"linear": Linear, "nearest": Nearest}[p.Mode]
		coord := map[string]CoordMode{"half_pixel": HalfPixel, "align_corners": AlignCorners, "asymmetric": Asymmetric}[p.Coord]
		return func(x G.Nodes) (*G.Node, error) { return Resize2D(x[0], p.Size[0], p.Size[1], mode, coord, Floor) }, nil
	case "softmax":
		if p.Log {
			return func(x G.Nodes) (*G.Node, error) { return LogSoftmax(x[0], p.Axis) }, nil
		}
		return func(x G.Nodes) (*G.Node, error) { return Softmax(x[0], p.Axis) }, nil
	case "xent":
		return func(x G.Nodes) (*G.Node, error) { return SoftmaxCrossEntropy(x[0], x[1], p.Ignore) }, nil
	case "pad":
		mode := map[string]PadMode{"constant": PadConstant, "reflect": PadReflect, "edge": PadEdge}[p.Mode]
		return func(x G.Nodes) (*G.Node, error) { return Pad(x[0], p.Pads, mode, p.Value) }, nil
	case "reduce":
		f := ReduceSum
		if p.Mean {
			f = ReduceMean
		}
		return func(x G.Nodes) (*G.Node, error) { return f(x[0], p.Axes, p.Keep) }, nil
	case "slice":
		return func(x G.Nodes) (*G.Node, error) { return Slice(x[0], p.Starts, p.Ends, p.Axes, p.Steps) }, nil
	case "concat":
		return func(x G.Nodes) (*G.Node, error) { return Concat(p.Axis, x...) }, nil
	case "transpose":
		return func(x G.Nodes) (*G.Node, error) { return Transpose(x[0], p.Perm) }, nil
	case "arith":
		f := map[string]func(a, b *G.Node) (*G.Node, error){"add": Add, "sub": Sub, "mul": Mul, "div": Div}[p.Kind]
		return func(x G.Nodes) (*G.Node, error) { return f(x[0], x[1]) }, nil
	case "l2norm":
		return func(x G.Nodes) (*G.Node, error) { return L2Normalize(x[0], p.Axis, p.Eps) }, nil
	}
	return nil, fmt.Errorf("unknown op %q", c.Op)
}

func TestGoldenB(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "b_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) < 90 {
		t.Fatalf("b_golden.json has %d cases, want the 101 the script writes", len(doc.Cases))
	}
	ops := map[string]int{}
	for _, c := range doc.Cases {
		build, err := goldenBuild(c)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		var in []*tensor.Dense
		for _, x := range c.Inputs {
			in = append(in, x.dense())
		}
		fn := func(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) { return build(x) }
		shape, got := bForward(t, fn, in...)
		bShape(t, c.Name, shape, c.Output.Shape...)
		bClose(t, c.Name, got, c.Output.Data, 1e-13, 1e-12)
		var in32 []*tensor.Dense
		for _, x := range in {
			in32 = append(in32, bTo32(x))
		}
		_, got32 := bForward(t, fn, in32...)
		bClose(t, c.Name+" float32", got32, c.Output.Data, 1e-5, 1e-5)
		if len(c.Grads) > 0 {
			goldenGrad(t, c, fn, in)
		}
		ops[c.Op]++
	}
	if len(ops) != 10 {
		t.Errorf("golden cases cover ops %v, want all 10 kinds", ops)
	}
}

// goldenGrad compares dL/d(input 0) of a scalar-valued case with PyTorch's autograd.
func goldenGrad(t *testing.T, c goldenCase, fn func(*G.ExprGraph, G.Nodes) (*G.Node, error), in []*tensor.Dense) {
	t.Helper()
	g := G.NewGraph()
	var xs G.Nodes
	for i, x := range in {
		xs = append(xs, G.NodeFromAny(g, x.Clone().(*tensor.Dense), G.WithName(fmt.Sprintf("x%d", i))))
	}
	y, err := fn(g, xs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(y, xs[0]); err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatalf("%s: %v", c.Name, err)
	}
	dx, err := xs[0].Grad()
	if err != nil {
		t.Fatal(err)
	}
	bClose(t, c.Name+" gradient", bF64s(t, dx), c.Grads[0].Data, 1e-14, 1e-12)
}
