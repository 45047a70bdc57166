package ops

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

var sliceCases = []struct {
	starts, ends, axes, steps []int
	want                      []int
}{
	{[]int{1}, []int{3}, []int{1}, nil, []int{2, 2, 4, 5}},
	{[]int{0, 1}, []int{2, -1}, nil, nil, []int{2, 1, 4, 5}},
	{[]int{-1}, []int{math.MinInt64}, []int{-1}, []int{-1}, []int{2, 3, 4, 5}}, // reverse
	{[]int{4, 0}, []int{0, math.MaxInt64}, []int{3, 2}, []int{-2, 3}, []int{2, 3, 2, 2}},
	{[]int{10}, []int{-10}, []int{2}, []int{-1}, []int{2, 3, 4, 5}}, // clamped both ends
	{[]int{1, 1, 1, 1}, []int{2, 3, 4, 5}, []int{0, 1, 2, 3}, []int{1, 1, 2, 3}, []int{1, 2, 2, 2}},
}

// slowSlice selects index start+k·step on each axis, straight from the resolved ranges.
func slowSlice(shape []int, x []float64, first, step, count []int) []float64 {
	st := rowMajorStrides(shape)
	y := make([]float64, volume(count))
	idx := make([]int, len(shape))
	for pos := range y {
		off := 0
		for ax, k := range idx {
			off += (first[ax] + k*step[ax]) * st[ax]
		}
		y[pos] = x[off]
		for ax := len(idx) - 1; ax >= 0; ax-- {
			if idx[ax]++; idx[ax] < count[ax] {
				break
			}
			idx[ax] = 0
		}
	}
	return y
}

func TestSliceForward(t *testing.T) {
	shape := []int{2, 3, 4, 5}
	x := bDense(shape, bSeq(120))
	// The resolved ranges, worked out by hand from ONNX's clamping rules.
	resolved := []struct{ first, step []int }{
		{[]int{0, 1, 0, 0}, []int{1, 1, 1, 1}},
		{[]int{0, 1, 0, 0}, []int{1, 1, 1, 1}},
		{[]int{0, 0, 0, 4}, []int{1, 1, 1, -1}},
		{[]int{0, 0, 0, 4}, []int{1, 1, 3, -2}},
		{[]int{0, 0, 3, 0}, []int{1, 1, -1, 1}},
		{[]int{1, 1, 1, 1}, []int{1, 1, 2, 3}},
	}
	for i, c := range sliceCases {
		name := fmt.Sprintf("case %d", i)
		s, got := bForward(t, bUnary(func(x *G.Node) (*G.Node, error) { return Slice(x, c.starts, c.ends, c.axes, c.steps) }), x)
		bShape(t, name, s, c.want...)
		bClose(t, name, got, slowSlice(shape, x.Data().([]float64), resolved[i].first, resolved[i].step, c.want), 0, 0)
	}
}

func TestSliceGrad(t *testing.T) {
	for _, c := range sliceCases {
		gradcheck.Check(t, bUnary(func(x *G.Node) (*G.Node, error) { return Slice(x, c.starts, c.ends, c.axes, c.steps) }), gradcheck.Rand(32, []int{2, 3, 4, 5}))
	}
}

func TestSliceErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 2, G.WithShape(3, 4), G.WithName("x"))
	_, err := Slice(x, []int{0}, []int{1}, []int{0}, []int{0})
	bWantErr(t, "step 0", err, "ops: Slice", "axis 0", "step is 0")
	_, err = Slice(x, []int{2}, []int{1}, []int{1}, nil)
	bWantErr(t, "empty", err, "select no element")
	_, err = Slice(x, []int{0, 0}, []int{1, 1}, []int{1, -1}, nil)
	bWantErr(t, "repeated axis", err, "twice")
	_, err = Slice(x, []int{0}, []int{1, 2}, nil, nil)
	bWantErr(t, "lengths", err, "want equal counts")
	_, err = Slice(x, []int{0}, []int{1}, []int{2}, nil)
	bWantErr(t, "axis", err, "axis 2 out of range")
}
