package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

func TestConcatForward(t *testing.T) {
	a := bDense([]int{2, 1, 2}, []float64{1, 2, 3, 4})
	b := bDense([]int{2, 2, 2}, []float64{5, 6, 7, 8, 9, 10, 11, 12})
	s, got := bForward(t, func(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) { return Concat(1, x[0], x[1]) }, a, b)
	bShape(t, "Concat axis 1", s, 2, 3, 2)
	bClose(t, "Concat axis 1", got, []float64{1, 2, 5, 6, 7, 8, 3, 4, 9, 10, 11, 12}, 0, 0)
	s, got = bForward(t, func(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) { return Concat(-1, x[0], x[1], x[0]) }, a, a)
	bShape(t, "Concat axis -1", s, 2, 1, 6)
	bClose(t, "Concat axis -1", got, []float64{1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4}, 0, 0)
	s, got = bForward(t, func(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) { return Concat(0, x[0], x[1]) }, bTo32(a), bTo32(a))
	bShape(t, "Concat axis 0 float32", s, 4, 1, 2)
	bClose(t, "Concat axis 0 float32", got, []float64{1, 2, 3, 4, 1, 2, 3, 4}, 0, 0)
}

func TestConcatGrad(t *testing.T) {
	for _, c := range []struct {
		axis   int
		shapes [][]int
	}{
		{1, [][]int{{2, 3, 2}, {2, 1, 2}, {2, 2, 2}}},
		{0, [][]int{{1, 4}, {3, 4}}},
		{-1, [][]int{{2, 2, 3}, {2, 2, 1}}},
		{0, [][]int{{5}}},
	} {
		var in []*tensor.Dense
		for i, s := range c.shapes {
			in = append(in, gradcheck.Rand(int64(40+i), s))
		}
		gradcheck.Check(t, func(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) { return Concat(c.axis, x...) }, in...)
	}
	// One node twice: both blocks' gradients must reach it.
	gradcheck.Check(t, bUnary(func(x *G.Node) (*G.Node, error) { return Concat(0, x, x) }), gradcheck.Rand(45, []int{2, 3}))
}

func TestConcatErrors(t *testing.T) {
	g := G.NewGraph()
	a := G.NewTensor(g, G.Float64, 2, G.WithShape(2, 3), G.WithName("a"))
	b := G.NewTensor(g, G.Float64, 2, G.WithShape(3, 3), G.WithName("b"))
	c := G.NewTensor(g, G.Float64, 3, G.WithShape(2, 3, 1), G.WithName("c"))
	_, err := Concat(1, a, b)
	bWantErr(t, "mismatch", err, "ops: Concat", `input 1 ("b")`, "(3, 3)", "except on axis 1")
	_, err = Concat(0, a, c)
	bWantErr(t, "rank", err, "want rank 2")
	_, err = Concat(2, a, b)
	bWantErr(t, "axis", err, "axis 2 out of range")
	_, err = Concat(0)
	bWantErr(t, "none", err, "no inputs")
}
