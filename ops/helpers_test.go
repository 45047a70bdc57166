package ops

import (
	"fmt"
	"math"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// Test helpers for the part-B ops.

// bForward builds fn on fresh input nodes holding copies of the given tensors, runs one forward
// pass on a TapeMachine and returns the output's shape and values as float64.
func bForward(t testing.TB, fn gradcheck.Build, inputs ...*tensor.Dense) (tensor.Shape, []float64) {
	t.Helper()
	g := G.NewGraph()
	var xs G.Nodes
	for i, in := range inputs {
		xs = append(xs, G.NodeFromAny(g, in.Clone().(*tensor.Dense), G.WithName(fmt.Sprintf("x%d", i))))
	}
	y, err := fn(g, xs)
	if err != nil {
		t.Fatalf("building the graph: %v", err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatalf("running the graph: %v", err)
	}
	return y.Shape().Clone(), bF64s(t, y.Value())
}

// bF64s converts a float32 or float64 value (tensor or scalar) to []float64.
func bF64s(t testing.TB, v G.Value) []float64 {
	t.Helper()
	switch v.Dtype() {
	case tensor.Float32:
		d, err := valueData[float32](v)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]float64, len(d))
		for i, x := range d {
			out[i] = float64(x)
		}
		return out
	case tensor.Float64:
		d, err := valueData[float64](v)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float64(nil), d...)
	}
	t.Fatalf("value has dtype %v", v.Dtype())
	return nil
}

// bDense builds a float64 tensor from a shape and values.
func bDense(shape []int, data []float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), data...)))
}

// bTo32 converts a float64 tensor to float32.
func bTo32(x *tensor.Dense) *tensor.Dense {
	src := x.Data().([]float64)
	d := make([]float32, len(src))
	for i, v := range src {
		d[i] = float32(v)
	}
	return tensor.New(tensor.WithShape(x.Shape().Clone()...), tensor.WithBacking(d))
}

// bSeq is 0, 1, …, n-1: values that name their own position, for index tests.
func bSeq(n int) []float64 {
	d := make([]float64, n)
	for i := range d {
		d[i] = float64(i)
	}
	return d
}

// bClose fails unless got and want have the same length and agree within
// atol + rtol·|want| everywhere; it reports the worst element.
func bClose(t testing.TB, what string, got, want []float64, atol, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values, want %d", what, len(got), len(want))
	}
	worst, wi := 0.0, -1
	for i := range got {
		d := math.Abs(got[i] - want[i])
		if math.IsNaN(got[i]) || math.IsNaN(d) {
			t.Fatalf("%s: element %d is NaN (want %g)", what, i, want[i])
		}
		if ex := d / (atol + rtol*math.Abs(want[i])); ex > 1 && ex > worst {
			worst, wi = ex, i
		}
	}
	if wi >= 0 {
		t.Errorf("%s: element %d = %.9g, want %.9g (|diff| %.3g)", what, wi, got[wi], want[wi], math.Abs(got[wi]-want[wi]))
	}
}

// bShape fails unless got equals want.
func bShape(t testing.TB, what string, got tensor.Shape, want ...int) {
	t.Helper()
	if !got.Eq(tensor.Shape(want)) {
		t.Fatalf("%s: shape %v, want %v", what, got, want)
	}
}

// bUnary adapts a one-input op constructor to gradcheck.Build.
func bUnary(f func(x *G.Node) (*G.Node, error)) gradcheck.Build {
	return func(_ *G.ExprGraph, xs G.Nodes) (*G.Node, error) { return f(xs[0]) }
}

// bWantErr fails unless err is non-nil and mentions every fragment.
func bWantErr(t testing.TB, what string, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one mentioning %q", what, fragments)
		return
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("%s: error %q does not mention %q", what, err, f)
		}
	}
}
