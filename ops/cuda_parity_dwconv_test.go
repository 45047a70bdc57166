//go:build cgo

package ops

import (
	"testing"

	"gorgonia.org/tensor"
)

// TestCUDADepthwiseParity: dwconv_fwd, dwconv_bwd_x and dwconv_bwd_w against
// depthwiseForward/BackwardX/BackwardW, exactly: 3×3 stride 2 pad 1, a dilated one with a
// channel multiplier of 2, and no bias.
func TestCUDADepthwiseParity(t *testing.T) {
	for _, tc := range []struct {
		n, c, mult, h, w int
		p                PoolParams // the geometry
		bias             bool
	}{
		{2, 3, 1, 7, 6, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}, true},
		{1, 2, 2, 9, 8, PoolParams{Kernel: [2]int{3, 3}, Pads: [4]int{2, 2, 2, 2}, Dilation: [2]int{2, 2}}, false},
		{1, 1, 1, 1, 1, PoolParams{Kernel: [2]int{1, 1}}, true},
	} {
		g := cuGeom(tc.h, tc.w, tc.p)
		m := tc.c * tc.mult
		op := &convOp{hasBias: tc.bias, x: tensor.Shape{tc.n, tc.c, tc.h, tc.w}, w: tensor.Shape{m, 1, g.KH, g.KW}, g: g}
		x, w := cuRand(111, tc.n*tc.c*tc.h*tc.w), cuRand(112, m*g.KH*g.KW)
		var b []float32
		if tc.bias {
			b = cuRand(113, m)
		}
		want := make([]float32, tc.n*m*g.OH*g.OW)
		depthwiseForward(op, x, w, b, want)
		geom := []any{tc.n, tc.c, m, g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL, g.OH, g.OW}
		y := cuNaN(len(want))
		grid, block := cuGrid(len(y))
		cuRun(t, "dwconv_fwd", grid, block, 0, append([]any{x, w, b, y, b2i(tc.bias)}, geom...)...)
		cuExact(t, "dwconv_fwd", y, want)

		dy := cuRand(114, len(want))
		wantDx := make([]float32, len(x))
		depthwiseBackwardX(op, w, dy, wantDx)
		dx := cuNaN(len(x))
		grid, block = cuGrid(len(dx))
		cuRun(t, "dwconv_bwd_x", grid, block, 0, append([]any{w, dy, dx}, geom...)...)
		cuExact(t, "dwconv_bwd_x", dx, wantDx)

		wantDw := make([]float32, len(w))
		depthwiseBackwardW(op, x, dy, wantDw)
		dw := cuNaN(len(w))
		grid, block = cuGrid(len(dw))
		cuRun(t, "dwconv_bwd_w", grid, block, 0, append([]any{x, dy, dw}, geom...)...)
		cuExact(t, "dwconv_bwd_w", dw, wantDw)
	}
}
