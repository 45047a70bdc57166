//go:build cgo

package ops

import (
	"testing"

	"gorgonia.org/tensor"
)

// TestCUDABatchNormParity: bn_stats + bn_apply against bnForward (training, with the running
// update; and eval), bn_stats_grad and bn_input_grad against bnStatsGrad and bnInputGrad,
// plain and with the ReLU fused, and channel_sum against chanSum. Block widths 64 and 96 (not
// a power of two) over channels of 1 to 150 elements.
func TestCUDABatchNormParity(t *testing.T) {
	for _, tc := range []struct {
		n, c, inner, block int
		relu, unbiased     bool
	}{
		{1, 1, 1, 64, false, true}, {2, 3, 25, 64, true, false}, {1, 4, 150, 96, false, true}, {3, 2, 7, 96, true, true},
	} {
		n, c, inner := tc.n, tc.c, tc.inner
		total := n * c * inner
		x, scale, bias := cuRand(11, total), cuRand(12, c), cuRand(13, c)
		for i := range x {
			x[i] = 3 + 2*x[i] // a mean far from 0: the two-pass variance matters
		}
		rm, rv := cuRand(14, c), cuRand(15, c)
		for i := range rv {
			rv[i] += 1.5
		}
		for _, training := range []bool{true, false} {
			st := &BNState{Mean: tensor.New(tensor.WithShape(c), tensor.WithBacking(append([]float32(nil), rm...))), Var: tensor.New(tensor.WithShape(c), tensor.WithBacking(append([]float32(nil), rv...))),
				Momentum: 0.9, Eps: 1e-5, Unbiased: tc.unbiased}
			op := &bnOp{st: st, x: tensor.Shape{n, c, inner}, run: &bnRun{training: training, mean: make([]float64, c), invstd: make([]float64, c)}, relu: tc.relu}
			want := make([]float32, total)
			bnForward(op, x, scale, bias, want, n, c, inner)

			mean, invstd := cuNaN(c), cuNaN(c)
			gm, gv := append([]float32(nil), rm...), append([]float32(nil), rv...)
			if training {
				cuRun(t, "bn_stats", cu1(c), cu1(tc.block), 0, x, mean, invstd, gm, gv, n, c, inner, float32(1e-5), float32(0.9), b2i(tc.unbiased))
				cuClose(t, "bn_stats running mean", gm, elems[float32](st.Mean), 1e-6)
				cuClose(t, "bn_stats running var", gv, elems[float32](st.Var), 1e-6)
			} else {
				grid, block := cuGrid(c)
				cuRun(t, "bn_eval_stats", grid, block, 0, gm, gv, mean, invstd, c, float32(1e-5))
			}
			cuClose(t, "mean", mean, f32s(op.run.mean), 1e-6)
			cuClose(t, "invstd", invstd, f32s(op.run.invstd), 1e-5)
			y := cuNaN(total)
			grid, block := cuGrid(total)
			cuRun(t, "bn_apply", grid, block, 0, x, mean, invstd, scale, bias, y, total, c, inner, b2i(tc.relu))
			cuClose(t, "bn_apply", y, want, 1e-5)

			dy := cuRand(16, total)
			wantSt := make([]float32, 2*c)
			bnStatsGrad(op, x, want, dy, wantSt)
			gst := cuNaN(2 * c)
			cuRun(t, "bn_stats_grad", cu1(c), cu1(tc.block), 0, x, want, dy, mean, invstd, gst, n, c, inner, b2i(tc.relu))
			cuClose(t, "bn_stats_grad", gst, wantSt, 1e-4)

			wantDx := make([]float32, total)
			bnInputGrad(op, x, scale, want, dy, wantSt[:c], wantSt[c:], wantDx)
			dx := cuNaN(total)
			cuRun(t, "bn_input_grad", grid, block, 0, x, scale, want, dy, mean, invstd, wantSt, dx, n, c, inner, b2i(tc.relu), b2i(training))
			cuClose(t, "bn_input_grad", dx, wantDx, 1e-4)
		}

		wantSum := make([]float32, c)
		chanSum(x, wantSum, n, c, inner)
		sum := cuNaN(c)
		cuRun(t, "channel_sum", cu1(c), cu1(tc.block), 0, x, sum, n, c, inner)
		cuClose(t, "channel_sum", sum, wantSum, 1e-6)
	}
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func f32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}
