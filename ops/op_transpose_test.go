package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// slowTranspose indexes the input by the permuted multi-index, element by element.
func slowTranspose(in []int, x []float64, perm []int) []float64 {
	out := make([]int, len(in))
	for i, p := range perm {
		out[i] = in[p]
	}
	st := rowMajorStrides(in)
	y := make([]float64, volume(out))
	idx := make([]int, len(out))
	for pos := range y {
		off := 0
		for i, p := range perm {
			off += idx[i] * st[p]
		}
		y[pos] = x[off]
		for ax := len(idx) - 1; ax >= 0; ax-- {
			if idx[ax]++; idx[ax] < out[ax] {
				break
			}
			idx[ax] = 0
		}
	}
	return y
}

func TestTransposeForward(t *testing.T) {
	cases := []struct {
		shape, perm, want []int
	}{
		{[]int{2, 3}, nil, []int{3, 2}},
		{[]int{2, 3, 4, 5}, []int{0, 2, 3, 1}, []int{2, 4, 5, 3}},
		{[]int{2, 3, 4}, []int{2, 0, 1}, []int{4, 2, 3}},
		{[]int{1, 3, 1, 2}, []int{3, 1, 0, 2}, []int{2, 3, 1, 1}},
		{[]int{5}, []int{0}, []int{5}},
	}
	for _, c := range cases {
		x := gradcheck.Rand(3, c.shape)
		shape, got := bForward(t, bUnary(func(x *G.Node) (*G.Node, error) { return Transpose(x, c.perm) }), x)
		bShape(t, "Transpose", shape, c.want...)
		perm := c.perm
		if perm == nil {
			perm = []int{1, 0}
		}
		bClose(t, "Transpose", got, slowTranspose(c.shape, x.Data().([]float64), perm), 0, 0)
		_, got32 := bForward(t, bUnary(func(x *G.Node) (*G.Node, error) { return Transpose(x, c.perm) }), bTo32(x))
		bClose(t, "Transpose float32", got32, slowTranspose(c.shape, x.Data().([]float64), perm), 1e-7, 1e-7)
	}
}

func TestTransposeGrad(t *testing.T) {
	for _, perm := range [][]int{{0, 2, 3, 1}, {3, 2, 1, 0}, nil} {
		gradcheck.Check(t, bUnary(func(x *G.Node) (*G.Node, error) { return Transpose(x, perm) }), gradcheck.Rand(1, []int{2, 3, 2, 4}))
	}
}

func TestTransposeErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 3, G.WithShape(2, 3, 4), G.WithName("x"))
	_, err := Transpose(x, []int{0, 1})
	bWantErr(t, "short perm", err, "ops: Transpose", "[0 1]", "want 3")
	_, err = Transpose(x, []int{0, 1, 1})
	bWantErr(t, "repeated axis", err, "not a permutation")
	_, err = Transpose(x, []int{0, 1, 3})
	bWantErr(t, "axis out of range", err, "not a permutation")
}
