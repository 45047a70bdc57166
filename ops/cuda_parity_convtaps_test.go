//go:build cgo

package ops

import (
	"testing"

	"gorgonia.org/tensor"
)

// TestCUDAConvTapsParity: the by-taps convolution's gathers and scatters and the batched
// layout's permutations against the CPU's (tapWeights, gatherTapInputs, gatherTapGrads,
// addTapOutputs, addTapInputGrads, permuteBatched), exactly, for every tap of a dilation-6
// 3×3 on an 8×8 map (MoCoFCN's head: most taps read padding somewhere) and a strided one.
func TestCUDAConvTapsParity(t *testing.T) {
	for _, tc := range []struct {
		n, c, m, h, w int
		p             PoolParams
	}{
		{2, 3, 4, 8, 8, PoolParams{Kernel: [2]int{3, 3}, Pads: [4]int{6, 6, 6, 6}, Dilation: [2]int{6, 6}}},
		{1, 2, 3, 7, 5, PoolParams{Kernel: [2]int{3, 2}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 0}}},
	} {
		g := cuGeom(tc.h, tc.w, tc.p)
		op := &convOp{x: tensor.Shape{tc.n, tc.c, tc.h, tc.w}, w: tensor.Shape{tc.m, tc.c, g.KH, g.KW}, g: g}
		n, c, m, kk, ohw := tc.n, tc.c, tc.m, g.KH*g.KW, g.OH*g.OW
		x, w := cuRand(131, n*c*g.H*g.W), cuRand(132, m*c*kk)
		dy := cuRand(133, n*m*ohw)
		out, dx := cuRand(134, m*n*ohw), cuRand(135, len(x))
		wantOut, wantDx := append([]float32(nil), out...), append([]float32(nil), dx...)
		for _, tp := range op.convTaps() {
			s := tp.size()
			rect := []any{tp.hlo, tp.hhi, tp.wlo, tp.whi}
			want := make([]float32, m*c)
			tapWeights(w, want, m, c, kk, tp.t)
			got := cuNaN(m * c)
			cuRun(t, "tap_weights", cu1(1), cu1(64), 0, w, got, m, c, kk, tp.t)
			cuExact(t, "tap_weights", got, want)
			dw := cuNaN(len(w))
			copy(dw, w)
			cuRun(t, "tap_weight_grad", cu1(1), cu1(64), 0, got, dw, m, c, kk, tp.t)
			cuExact(t, "tap_weight_grad", dw, w) // got is w's own slice: dw comes back as w

			want = make([]float32, c*n*s)
			gatherTapInputs(&g, tp, x, want, n, c)
			got = cuNaN(len(want))
			grid, block := cuGrid(len(got))
			xin := append([]any{x, got, n, c, g.H, g.W, g.SH, g.SW}, append(rect, tp.offH, tp.offW)...)
			cuRun(t, "tap_gather_inputs", grid, block, 0, xin...)
			cuExact(t, "tap_gather_inputs", got, want)

			want = make([]float32, m*n*s)
			gatherTapGrads(&g, tp, dy, want, n, m)
			got = cuNaN(len(want))
			cuRun(t, "tap_gather_grads", grid, block, 0, append([]any{dy, got, n, m, g.OH, g.OW}, rect...)...)
			cuExact(t, "tap_gather_grads", got, want)

			z := cuRand(136+uint64(tp.t), m*n*s)
			addTapOutputs(&g, tp, z, wantOut, n, m)
			cuRun(t, "tap_add_outputs", grid, block, 0, append([]any{z, out, n, m, g.OH, g.OW}, rect...)...)
			cuExact(t, "tap_add_outputs", out, wantOut)

			dg := cuRand(150+uint64(tp.t), c*n*s)
			addTapInputGrads(&g, tp, dg, wantDx, n, c)
			cuRun(t, "tap_add_input_grads", grid, block, 0, append([]any{dg, dx, n, c, g.H, g.W, g.SH, g.SW}, append(rect, tp.offH, tp.offW)...)...)
			cuExact(t, "tap_add_input_grads", dx, wantDx)
		}

		for _, bias := range []bool{false, true} {
			var b []float32
			if bias {
				b = cuRand(137, m)
			}
			want := make([]float32, n*m*ohw)
			permuteBatched(out, b, want, n, m, ohw)
			y := cuNaN(len(want))
			grid, block := cuGrid(len(y))
			cuRun(t, "conv_permute_batched", grid, block, 0, out, b, y, n, m, ohw, b2i(bias))
			cuExact(t, "conv_permute_batched", y, want)
			if !bias {
				back := cuNaN(len(out))
				cuRun(t, "conv_batch_grads", grid, block, 0, y, back, n, m, ohw)
				cuExact(t, "conv_batch_grads", back, out)
			}
		}
	}
}
