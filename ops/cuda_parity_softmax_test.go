//go:build cgo

package ops

import (
	"testing"

	"gorgonia.org/tensor"
)

// TestCUDASoftmaxParity: softmax_fwd/softmax_bwd against softmaxDo/softmaxDiffDo, Softmax
// and LogSoftmax, along the last axis and a middle one, one-element fibres included; 1e-5
// (the kernels' exp and log are a few ulp from Go's).
func TestCUDASoftmaxParity(t *testing.T) {
	for _, tc := range []struct {
		shape []int
		axis  int
	}{{[]int{4, 9}, 1}, {[]int{2, 5, 3, 4}, 1}, {[]int{3, 1}, 1}, {[]int{70}, 0}} {
		for _, log := range []bool{false, true} {
			sh := tensor.Shape(tc.shape)
			x := cuRand(91, sh.TotalSize())
			for i := range x {
				x[i] *= 8
			}
			op := softmaxOp{axis: tc.axis, log: log, in: sh, buf: new(outBuf)}
			v, err := softmaxDo[float32](op, newValue(sh, x))
			if err != nil {
				t.Fatal(err)
			}
			want := cuValues(v)
			outer, n, inner := splitAt(sh, tc.axis)
			y := cuNaN(len(x))
			grid, block := cuGrid(outer * inner)
			cuRun(t, "softmax_fwd", grid, block, 0, x, y, outer, n, inner, b2i(log))
			cuClose(t, op.name(), y, want, 1e-5)

			g := cuRand(92, len(x))
			dv, err := softmaxDiffDo[float32](op, new(outBuf), newValue(sh, want), newValue(sh, g))
			if err != nil {
				t.Fatal(err)
			}
			dx := cuNaN(len(x))
			cuRun(t, "softmax_bwd", grid, block, 0, want, g, dx, outer, n, inner, b2i(log))
			cuClose(t, op.name()+" gradient", dx, cuValues(dv), 1e-5)
		}
	}
}
