//go:build cgo

package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func cuInts(v []int) []int32 {
	out := make([]int32, len(v))
	for i, x := range v {
		out[i] = int32(x)
	}
	return out
}

// cuEval runs build over one input x of the given shape through Gorgonia and returns the
// output node (its op, for the tables) and its values.
func cuEval(t *testing.T, shape []int, x []float32, build func(*G.Node) (*G.Node, error)) (*G.Node, []float32) {
	t.Helper()
	var y *G.Node
	v := aEval(t, func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) {
		var err error
		y, err = build(in[0])
		return y, err
	}, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32(nil), x...))))
	return y, append([]float32(nil), v.Data().([]float32)...)
}

// TestCUDACopyParity: Transpose, Slice (a negative step), Concat and its gradient's split as
// copy_strided launches, and Pad in all three modes (with a crop) as gather_axes over the
// CPU op's own tables and its gradient as scatter_axes, against the CPU ops: exact.
func TestCUDACopyParity(t *testing.T) {
	// Transpose [2,3,4] by [2,0,1].
	xs := []int{2, 3, 4}
	x := cuRand(71, 24)
	perm := []int{2, 0, 1}
	y, want := cuEval(t, xs, x, func(n *G.Node) (*G.Node, error) { return Transpose(n, perm) })
	st := rowMajorStrides(xs)
	ss := make([]int, 3)
	for d, p := range perm {
		ss[d] = st[p]
	}
	got := cuNaN(24)
	grid, block := cuGrid(24)
	cuRun(t, "copy_strided", grid, block, 0, x, got, 24, 3, cuInts(y.Shape()), cuInts(ss), cuInts(rowMajorStrides(y.Shape())), 0, 0)
	cuExact(t, "transpose", got, want)

	// Slice [5,6] rows 1..4, columns 5 down to 1 by −2.
	x = cuRand(72, 30)
	y, want = cuEval(t, []int{5, 6}, x, func(n *G.Node) (*G.Node, error) {
		return Slice(n, []int{1, 5}, []int{4, 0}, []int{0, 1}, []int{1, -2})
	})
	got = cuNaN(len(want))
	cuRun(t, "copy_strided", cu1(1), cu1(64), 0, x, got, len(want), 2, cuInts(y.Shape()), []int32{6, -2}, cuInts(rowMajorStrides(y.Shape())), 1*6+5, 0)
	cuExact(t, "slice", got, want)

	// Concat [2,3,4] and [2,1,4] along axis 1, then split back (the gradient).
	a, b := cuRand(73, 24), cuRand(74, 8)
	cat := aEval(t, func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return Concat(1, in[0], in[1]) },
		tensor.New(tensor.WithShape(2, 3, 4), tensor.WithBacking(append([]float32(nil), a...))),
		tensor.New(tensor.WithShape(2, 1, 4), tensor.WithBacking(append([]float32(nil), b...))))
	want = cat.Data().([]float32)
	out := []int{2, 4, 4}
	ost := cuInts(rowMajorStrides(out))
	got = cuNaN(32)
	cuRun(t, "copy_strided", cu1(1), cu1(64), 0, a, got, 24, 3, []int32{2, 3, 4}, cuInts(rowMajorStrides([]int{2, 3, 4})), ost, 0, 0)
	cuRun(t, "copy_strided", cu1(1), cu1(64), 0, b, got, 8, 3, []int32{2, 1, 4}, cuInts(rowMajorStrides([]int{2, 1, 4})), ost, 0, 3*4)
	cuExact(t, "concat", got, want)
	back := cuNaN(8)
	cuRun(t, "copy_strided", cu1(1), cu1(64), 0, got, back, 8, 3, []int32{2, 1, 4}, ost, cuInts(rowMajorStrides([]int{2, 1, 4})), 3*4, 0)
	cuExact(t, "concat gradient", back, b)

	// Pad [3,5]: reflect and edge by more than the axis, constant with a crop.
	for _, tc := range []struct {
		mode PadMode
		pads []int
	}{{PadReflect, []int{2, 6, 1, 3}}, {PadEdge, []int{0, 2, 3, 1}}, {PadConstant, []int{1, -2, 2, 1}}} {
		x = cuRand(75, 15)
		y, want = cuEval(t, []int{3, 5}, x, func(n *G.Node) (*G.Node, error) { return Pad(n, tc.pads, tc.mode, 0.5) })
		m := y.Op().(padOp).m
		var off, maps []int32
		for _, mp := range m.maps {
			off = append(off, int32(len(maps)))
			maps = append(maps, cuInts(mp)...)
		}
		got = cuNaN(len(want))
		grid, block = cuGrid(len(want))
		cuRun(t, "gather_axes", grid, block, 0, x, got, len(want), 2, cuInts(m.shape), off, maps, float32(y.Op().(padOp).value))
		cuExact(t, "pad "+tc.mode.String(), got, want)

		// The gradient: scatter_axes over the inverted tables against scatterValue.
		g := cuRand(76, len(want))
		in := tensor.Shape{3, 5}
		dv, err := scatterValue("PadDiff", new(outBuf), m, in, newValue(tensor.Shape(m.shape), g))
		if err != nil {
			t.Fatal(err)
		}
		st := rowMajorStrides(in)
		var invoff, inv []int32
		for ax, mp := range m.maps {
			invoff = append(invoff, int32(len(inv)))
			ptr := len(inv)
			inv = append(inv, make([]int32, in[ax]+1)...)
			for i := 0; i < in[ax]; i++ {
				inv[ptr+i] = int32(len(inv))
				for o, v := range mp {
					if v >= 0 && v/st[ax] == i {
						inv = append(inv, int32(o))
					}
				}
			}
			inv[ptr+in[ax]] = int32(len(inv))
		}
		dx := cuNaN(15)
		cuRun(t, "scatter_axes", cu1(1), cu1(64), 0, g, dx, 15, 2, []int32{3, 5}, cuInts(rowMajorStrides(m.shape)), invoff, inv)
		cuExact(t, "pad gradient "+tc.mode.String(), dx, cuValues(dv))
	}
}
