//go:build cgo

package ops

import "testing"

// TestCUDAIm2colParity: im2col and col2im against ops.im2col/col2im, exactly, for strided,
// dilated and padded geometries with ragged edges, per image (ld = OH·OW) and batched (one
// wide matrix, ld = N·OH·OW); col2im accumulates into a non-zero dx as the CPU's does.
func TestCUDAIm2colParity(t *testing.T) {
	for _, tc := range []struct {
		n, c, h, w int
		p          PoolParams // only the geometry: kernel, stride, pads, dilation
	}{
		{1, 1, 1, 1, PoolParams{Kernel: [2]int{1, 1}}},
		{2, 3, 7, 6, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}},
		{1, 2, 9, 8, PoolParams{Kernel: [2]int{3, 3}, Pads: [4]int{6, 6, 6, 6}, Dilation: [2]int{6, 6}}},
		{3, 2, 5, 7, PoolParams{Kernel: [2]int{2, 4}, Stride: [2]int{3, 1}, Pads: [4]int{0, 2, 1, 1}, Dilation: [2]int{2, 1}}},
	} {
		g := cuGeom(tc.h, tc.w, tc.p)
		ohw, rows, chw := g.OH*g.OW, tc.c*g.KH*g.KW, tc.c*g.H*g.W
		x := cuRand(51, tc.n*chw)
		ld := tc.n * ohw
		want := make([]float32, rows*ld)
		for ni := 0; ni < tc.n; ni++ {
			im2col(&g, x[ni*chw:(ni+1)*chw], tc.c, want[ni*ohw:], ld)
		}
		geom := []any{tc.n, tc.c, g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL, g.OH, g.OW, ld}
		col := cuNaN(len(want))
		grid, block := cuGrid(len(col))
		cuRun(t, "im2col", grid, block, 0, append([]any{x, col}, geom...)...)
		cuExact(t, "im2col", col, want)

		dcol := cuRand(52, len(want))
		wantDx := cuRand(53, len(x))
		dx := append([]float32(nil), wantDx...)
		for ni := 0; ni < tc.n; ni++ {
			col2im(&g, dcol[ni*ohw:], tc.c, wantDx[ni*chw:(ni+1)*chw], ld)
		}
		grid, block = cuGrid(len(dx))
		cuRun(t, "col2im", grid, block, 0, append([]any{dcol, dx}, geom...)...)
		cuExact(t, "col2im", dx, wantDx)
	}
}
