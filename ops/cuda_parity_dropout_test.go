//go:build cgo

package ops

import (
	"testing"

	"gorgonia.org/tensor"
)

// TestCUDADropoutParity: dropout_mask draws the CPU op's mask bit for bit (the same PCG
// stream, by jumping ahead), for two seeds and steps, and dropout_apply is dropoutApply.
func TestCUDADropoutParity(t *testing.T) {
	for _, tc := range []struct {
		n    int
		p    float64
		seed int64
		step int64
	}{{1, 0.5, 1, 0}, {1000, 0.1, 42, 7}, {333, 0.9, -3, 123456}} {
		sh := tensor.Shape{tc.n}
		phase := &Phase{Training: true, Step: tc.step}
		op := dropoutOp{p: tc.p, seed: tc.seed, phase: phase, in: sh, st: &dropoutState{}, buf: new(outBuf)}
		x := cuRand(121, tc.n)
		v, err := op.Do(newValue(sh, x))
		if err != nil {
			t.Fatal(err)
		}
		keep := make([]int32, tc.n)
		for i := range keep {
			keep[i] = -1
		}
		grid, block := cuGrid(tc.n)
		cuRun(t, "dropout_mask", grid, block, 0, keep, tc.n, uint64(tc.seed), uint64(tc.step)^0x55d4a1d0, tc.p)
		for i, k := range op.st.keep {
			if (keep[i] == 1) != k || keep[i] < 0 || keep[i] > 1 {
				t.Fatalf("seed %d step %d: keep[%d] = %d, the CPU's mask has %v", tc.seed, tc.step, i, keep[i], k)
			}
		}
		y := cuNaN(tc.n)
		cuRun(t, "dropout_apply", grid, block, 0, x, keep, y, tc.n, float32(1/(1-tc.p)))
		cuExact(t, "dropout_apply", y, cuValues(v))
	}
}
