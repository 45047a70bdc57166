//go:build cgo

package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestCUDAXentParity: xent_fwd + xent_reduce against xentDo and xent_bwd against xentDiffDo,
// on [N, C] rows (inner = 1) and [N, C, H, W] maps, with ignored labels (ignore 255, and −1
// as PLMoCo's), a map where every label is ignored (loss 0, gradient 0), and an invalid label
// reported by position.
func TestCUDAXentParity(t *testing.T) {
	for _, ignore := range []int{255, -1} { // PLMoCo ignores −1: not the kernels' invalid sentinel
		for _, tc := range []struct {
			shape   []int
			ignored int // every ignored-th position is ignored (0: none; 1: all)
			block   int
		}{
			{[]int{1, 1}, 0, 64}, {[]int{5, 7}, 3, 64}, {[]int{2, 4, 3, 5}, 4, 96}, {[]int{1, 21, 9, 9}, 5, 64}, {[]int{2, 3, 2, 2}, 1, 64},
		} {
			sh := tensor.Shape(tc.shape)
			n, c, inner := splitAt(sh, 1)
			npos := n * inner
			x := cuRand(21, sh.TotalSize())
			for i := range x {
				x[i] *= 6 // logits of a few units: a peaked softmax
			}
			labels := make([]float32, npos)
			for p := range labels {
				labels[p] = float32((p * 7) % c)
				if tc.ignored > 0 && p%tc.ignored == 0 {
					labels[p] = float32(ignore)
				}
			}
			lsh := append(tensor.Shape{n}, sh[2:]...)
			op := xentOp{ignore: ignore, logits: sh, labels: lsh}
			v, err := xentDo[float32](op, newValue(sh, x), newValue(lsh, labels))
			if err != nil {
				t.Fatal(err)
			}
			want := float32(*v.(*G.F32))

			grid, block := cuGrid(npos)
			loss, out, info := cuNaN(npos), cuNaN(1), []int32{-7, -7}
			cuRun(t, "xent_fwd", grid, block, 0, x, labels, loss, n, c, inner, ignore)
			cuRun(t, "xent_reduce", cu1(1), cu1(tc.block), 0, loss, labels, out, info, npos, c, ignore)
			cuClose(t, "xent loss", out, []float32{want}, 1e-5)
			count, _ := xentCount(op, labels)
			if info[0] != int32(count) || info[1] != -1 {
				t.Fatalf("xent_reduce info %v, want [%d -1]", info, count)
			}

			g := float32(0.7)
			dv, err := xentDiffDo[float32](op, &outBuf{}, []G.Value{newValue(sh, x), newValue(lsh, labels), G.NewF32(g)})
			if err != nil {
				t.Fatal(err)
			}
			dx := cuNaN(sh.TotalSize())
			cuRun(t, "xent_bwd", grid, block, 0, x, labels, []float32{g}, info, dx, n, c, inner, ignore)
			cuClose(t, "xent gradient", dx, elems[float32](dv.(*tensor.Dense)), 1e-5)

			// An invalid label: the CPU op fails; the kernel names its first position.
			if npos > 2 {
				bad := append([]float32(nil), labels...)
				bad[2], bad[npos-1] = float32(c), 0.5
				if _, err := xentCount(op, bad); err == nil {
					t.Fatal("the CPU op accepts an invalid label")
				}
				cuRun(t, "xent_reduce", cu1(1), cu1(tc.block), 0, loss, bad, out, info, npos, c, ignore)
				if info[1] != 2 {
					t.Fatalf("xent_reduce reports the first invalid label at %d, want 2", info[1])
				}
			}
		}
	}
}
