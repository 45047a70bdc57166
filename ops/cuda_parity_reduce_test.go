//go:build cgo

package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// cuValues is a float32 value's elements, a scalar's included.
func cuValues(v G.Value) []float32 {
	if s, ok := v.(*G.F32); ok {
		return []float32{float32(*s)}
	}
	return append([]float32(nil), elems[float32](v.(*tensor.Dense))...)
}

// TestCUDAReduceParity: reduce_axis and reduce_axis_bwd against reduceDo/reduceDiffDo (a row
// sum, a mean over two adjacent middle axes, a mean over everything), exactly; the two-stage
// sum_partial + sum_final against the CPU's whole-tensor mean to 1e-6 (another order).
func TestCUDAReduceParity(t *testing.T) {
	for _, tc := range []struct {
		shape  []int
		from   int // reduced axes [from, to)
		to     int
		mean   bool
		nblock int
	}{{[]int{5, 7}, 1, 2, false, 1}, {[]int{2, 3, 4, 5}, 1, 3, true, 2}, {[]int{6}, 0, 1, true, 1}, {[]int{1000}, 0, 1, true, 3}} {
		in := tensor.Shape(tc.shape)
		reduced := make([]bool, len(in))
		for a := tc.from; a < tc.to; a++ {
			reduced[a] = true
		}
		op := reduceOp{name: "ReduceSum", mean: tc.mean, in: in, reduced: reduced, buf: new(outBuf)}
		op.kept, op.out, op.count = reduceShapes(in, reduced, false)
		x := cuRand(81, in.TotalSize())
		v, err := reduceDo[float32](op, newValue(in, x))
		if err != nil {
			t.Fatal(err)
		}
		want := cuValues(v)
		outer, n, inner := volume(in[:tc.from]), volume(in[tc.from:tc.to]), volume(in[tc.to:])
		divisor := 1
		if tc.mean {
			divisor = n
		}
		y := cuNaN(outer * inner)
		grid, block := cuGrid(len(y))
		cuRun(t, "reduce_axis", grid, block, 0, x, y, outer, n, inner, divisor)
		cuExact(t, "reduce_axis", y, want)

		if outer*inner == 1 {
			partial, out := cuNaN(tc.nblock), cuNaN(1)
			cuRun(t, "sum_partial", cu1(tc.nblock), cu1(64), 0, x, partial, len(x), 0)
			cuRun(t, "sum_final", cu1(1), cu1(32), 0, partial, out, tc.nblock, divisor)
			cuClose(t, "sum_partial+sum_final", out, want, 1e-6)
		}

		dy := cuRand(82, len(y))
		dv, err := reduceDiffDo[float32](op, new(outBuf), newValue(op.out, dy))
		if err != nil {
			t.Fatal(err)
		}
		dx := cuNaN(len(x))
		grid, block = cuGrid(len(dx))
		cuRun(t, "reduce_axis_bwd", grid, block, 0, dy, dx, outer, n, inner, divisor)
		cuExact(t, "reduce_axis_bwd", dx, cuValues(dv))
	}
}
