package ops

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The part-A ops against PyTorch 1.13: ops/testdata/a_golden.json, written by
// scripts/gen_ops_golden_a.py (its header records seed, versions and command).

type aGoldenTensor struct {
	Shape []int     `json:"shape"`
	Data  []float64 `json:"data"`
}

type aGoldenCase struct {
	Name    string                   `json:"name"`
	Op      string                   `json:"op"`
	Params  json.RawMessage          `json:"params"`
	Inputs  map[string]aGoldenTensor `json:"inputs"`
	Outputs map[string]aGoldenTensor `json:"outputs"`
	Grads   map[string]aGoldenTensor `json:"grads"`
}

type aGoldenParams struct {
	Stride          [2]int  `json:"stride"`
	Pads            [4]int  `json:"pads"`
	Dilation        [2]int  `json:"dilation"`
	Groups          int     `json:"groups"`
	Kernel          [2]int  `json:"kernel"`
	CeilMode        bool    `json:"ceil_mode"`
	CountIncludePad bool    `json:"count_include_pad"`
	Out             [2]int  `json:"out"`
	Training        bool    `json:"training"`
	Momentum        float64 `json:"momentum"`
	Eps             float64 `json:"eps"`
	Unbiased        bool    `json:"unbiased"`
}

func aLoadGolden(t *testing.T) []aGoldenCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/a_golden.json")
	if err != nil {
		t.Fatalf("reading golden file (regenerate with scripts/gen_ops_golden_a.py): %v", err)
	}
	var doc struct {
		Cases []aGoldenCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("decoding testdata/a_golden.json: %v", err)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("testdata/a_golden.json has no cases")
	}
	return doc.Cases
}

// value converts a golden input to a tensor of dtype dt. The stored numbers are float32
// values, so both dtypes see exactly what PyTorch saw.
func (g aGoldenTensor) value(dt tensor.Dtype) *tensor.Dense {
	if dt == tensor.Float32 {
		d := make([]float32, len(g.Data))
		for i, v := range g.Data {
			d[i] = float32(v)
		}
		return tensor.New(tensor.WithShape(g.Shape...), tensor.WithBacking(d))
	}
	d := make([]float64, len(g.Data))
	for i, v := range g.Data {
		d[i] = float64(float32(v))
	}
	return tensor.New(tensor.WithShape(g.Shape...), tensor.WithBacking(d))
}

// aGoldenBuild returns the op under test for a case, the order of its graph inputs, and the
// BatchNorm state (nil for other ops) whose statistics the case also checks.
func aGoldenBuild(c aGoldenCase, p aGoldenParams, dt tensor.Dtype) (func(*G.ExprGraph, G.Nodes) (*G.Node, error), []string, *BNState, error) {
	pool := PoolParams{Kernel: p.Kernel, Stride: p.Stride, Pads: p.Pads, Dilation: p.Dilation, CeilMode: p.CeilMode, CountIncludePad: p.CountIncludePad}
	switch c.Op {
	case "conv":
		cp := ConvParams{Stride: p.Stride, Pads: p.Pads, Dilation: p.Dilation, Groups: p.Groups}
		if _, ok := c.Inputs["b"]; ok {
			return func(_ *G.ExprGraph, in G.Nodes) (*G.Node, error) { return Conv2D(in[0], in[1], in[2], cp) }, []string{"x", "w", "b"}, nil, nil
		}
		return func(_ *G.ExprGraph, in G.Nodes) (*G.Node, error) { return Conv2D(in[0], in[1], nil, cp) }, []string{"x", "w"}, nil, nil
	case "maxpool":
		return func(_ *G.ExprGraph, in G.Nodes) (*G.Node, error) { return MaxPool2D(in[0], pool) }, []string{"x"}, nil, nil
	case "avgpool":
		return func(_ *G.ExprGraph, in G.Nodes) (*G.Node, error) { return AvgPool2D(in[0], pool) }, []string{"x"}, nil, nil
	case "adaptive":
		return func(_ *G.ExprGraph, in G.Nodes) (*G.Node, error) { return AdaptiveAvgPool2D(in[0], p.Out[0], p.Out[1]) }, []string{"x"}, nil, nil
	case "global":
		return func(_ *G.ExprGraph, in G.Nodes) (*G.Node, error) { return GlobalAvgPool2D(in[0]) }, []string{"x"}, nil, nil
	case "matmul":
		return func(_ *G.ExprGraph, in G.Nodes) (*G.Node, error) { return MatMul(in[0], in[1]) }, []string{"a", "b"}, nil, nil
	case "batchnorm":
		st := &BNState{Mean: c.Inputs["mean"].value(dt), Var: c.Inputs["var"].value(dt), Momentum: p.Momentum, Eps: p.Eps,
			Phase: &Phase{Training: p.Training}, Unbiased: p.Unbiased}
		return func(_ *G.ExprGraph, in G.Nodes) (*G.Node, error) { return BatchNorm(in[0], in[1], in[2], st) }, []string{"x", "scale", "bias"}, st, nil
	}
	return nil, nil, nil, fmt.Errorf("unknown golden op %q", c.Op)
}

func TestGoldenPyTorch(t *testing.T) {
	for _, c := range aLoadGolden(t) {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(fmt.Sprintf("%s/%s/%v", c.Op, c.Name, dt), func(t *testing.T) {
				var p aGoldenParams
				if err := json.Unmarshal(c.Params, &p); err != nil {
					t.Fatalf("params: %v", err)
				}
				build, names, st, err := aGoldenBuild(c, p, dt)
				if err != nil {
					t.Fatal(err)
				}
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 1e-5
				}
				aRunGolden(t, c, build, names, st, dt, tol)
			})
		}
	}
}

// aRunGolden runs one case: forward (and, when the case has gradients, backward of
// Σ y⊙gy) and compares every stored output, statistic and gradient.
func aRunGolden(t *testing.T, c aGoldenCase, build func(*G.ExprGraph, G.Nodes) (*G.Node, error), names []string, st *BNState, dt tensor.Dtype, tol float64) {
	g := G.NewGraph()
	var in G.Nodes
	for _, name := range names {
		in = append(in, G.NodeFromAny(g, c.Inputs[name].value(dt), G.WithName(name)))
	}
	y, err := build(g, in)
	if err != nil {
		t.Fatal(err)
	}
	want := c.Outputs["y"]
	if !y.Shape().Eq(tensor.Shape(want.Shape)) {
		t.Fatalf("output shape %v, want %v", y.Shape(), want.Shape)
	}
	if len(c.Grads) > 0 {
		gy := G.NodeFromAny(g, c.Inputs["gy"].value(dt), G.WithName("gy"))
		n := y.Shape().TotalSize()
		loss, err := G.Sum(G.Must(G.Reshape(G.Must(G.HadamardProd(y, gy)), tensor.Shape{n})), 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := G.Grad(loss, in...); err != nil {
			t.Fatal(err)
		}
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	aClose(t, "y", aF64(y.Value().(*tensor.Dense)), want.Data, tol)
	if st != nil {
		aClose(t, "running mean", aF64(st.Mean), c.Outputs["mean"].Data, tol)
		aClose(t, "running var", aF64(st.Var), c.Outputs["var"].Data, tol)
	}
	for i, name := range names {
		wg, ok := c.Grads[name]
		if !ok {
			continue
		}
		gv, err := in[i].Grad()
		if err != nil {
			t.Fatalf("gradient of %s: %v", name, err)
		}
		aClose(t, "d"+name, aF64(gv.(*tensor.Dense)), wg.Data, tol)
	}
}
