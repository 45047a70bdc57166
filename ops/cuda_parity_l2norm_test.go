//go:build cgo

package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestCUDAL2NormParity: l2norm_fwd/l2norm_bwd against l2normDo/l2normDiffDo along the last
// axis ([N, D] embeddings), the channel axis of a map, and a fibre of zeros (clamped by eps).
// eps is a power of two so that its float32 and float64 values agree; then the kernels do the
// CPU's double arithmetic in its order and match exactly.
func TestCUDAL2NormParity(t *testing.T) {
	const eps = 1.0 / (1 << 30)
	for _, tc := range []struct {
		shape []int
		axis  int
	}{{[]int{5, 7}, 1}, {[]int{2, 3, 4, 5}, 1}, {[]int{1, 1}, 0}, {[]int{3, 1, 65}, 2}} {
		sh := tensor.Shape(tc.shape)
		x := cuRand(61, sh.TotalSize())
		outer, n, inner := splitAt(sh, tc.axis)
		for k := 0; k < n; k++ { // fibre 0 is all zeros
			x[k*inner] = 0
		}
		op := l2normOp{axis: tc.axis, eps: eps, in: sh, buf: new(outBuf)}
		v, err := l2normDo[float32](op, newValue(sh, x))
		if err != nil {
			t.Fatal(err)
		}
		want := elems[float32](v.(*tensor.Dense))
		y := cuNaN(len(x))
		grid, block := cuGrid(outer * inner)
		cuRun(t, "l2norm_fwd", grid, block, 0, x, y, outer, n, inner, float32(eps))
		cuExact(t, "l2norm_fwd", y, want)

		g := cuRand(62, len(x))
		dv, err := l2normDiffDo[float32](op, new(outBuf), []G.Value{newValue(sh, x), newValue(sh, want), newValue(sh, g)})
		if err != nil {
			t.Fatal(err)
		}
		dx := cuNaN(len(x))
		cuRun(t, "l2norm_bwd", grid, block, 0, x, want, g, dx, outer, n, inner, float32(eps))
		cuExact(t, "l2norm_bwd", dx, elems[float32](dv.(*tensor.Dense)))
	}
}
