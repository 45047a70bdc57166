//go:build cgo

package ops

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestCUDABroadcastParity: arith_broadcast and arith_broadcast_grad against arithDo and
// arithDiffDo for all four kinds, with a per-channel operand, both operands broadcast (one of
// lower rank), a scalar, and equal shapes; exact, −0 gradients included.
func TestCUDABroadcastParity(t *testing.T) {
	for _, tc := range []struct{ a, b []int }{
		{[]int{2, 3, 4}, []int{1, 3, 1}}, {[]int{2, 1, 4}, []int{3, 1}}, {[]int{5}, []int{}}, {[]int{2, 3}, []int{2, 3}}, {[]int{3, 4}, []int{1, 3, 4}},
	} {
		as, bs := tensor.Shape(tc.a), tensor.Shape(tc.b)
		rank := max(len(as), len(bs))
		out := make(tensor.Shape, rank)
		align := func(s tensor.Shape) []int {
			r := make([]int, rank)
			for i := range r {
				r[i] = 1
			}
			copy(r[rank-len(s):], s)
			return r
		}
		aa, ba := align(as), align(bs)
		for i := range out {
			out[i] = max(aa[i], ba[i])
		}
		a, b := cuRand(101, max(1, as.TotalSize())), cuRand(102, max(1, bs.TotalSize()))
		for i := range b {
			b[i] += 2 // no division by ~0
		}
		a[0] = float32(math.Copysign(0, -1))
		ast, bst, ost := broadcastStrides(as, out), broadcastStrides(bs, out), rowMajorStrides(out)
		fwdGeo := cuInts(append(append(append([]int{}, out...), ast...), bst...))
		g := cuRand(103, out.TotalSize())
		g[0] = float32(math.Copysign(0, -1))
		for kind := arithAdd; kind <= arithDiv; kind++ {
			op := arithOp{kind: kind, a: as, b: bs, out: out, buf: &outBuf{}}
			v, err := arithDo[float32](op, newValue(as, a), newValue(bs, b))
			if err != nil {
				t.Fatal(err)
			}
			y := cuNaN(out.TotalSize())
			grid, block := cuGrid(len(y))
			cuRun(t, "arith_broadcast", grid, block, 0, a, b, y, len(y), rank, fwdGeo, int(kind))
			cuExact(t, kind.String(), y, cuValues(v))

			for wrt, sh := range []tensor.Shape{as, bs} {
				dv, err := arithDiffDo[float32](arithDiffOp{f: op, wrt: wrt, buf: &outBuf{}}, []G.Value{newValue(as, a), newValue(bs, b), newValue(out, g)})
				if err != nil {
					t.Fatal(err)
				}
				geo := cuInts(append(append(append(append(append([]int{}, out...), align(sh)...), ost...), ast...), bst...))
				d := cuNaN(max(1, sh.TotalSize()))
				grid, block := cuGrid(len(d))
				cuRun(t, "arith_broadcast_grad", grid, block, 0, a, b, g, d, len(d), rank, geo, int(kind), wrt, b2i(sh.Eq(out)))
				cuExact(t, kind.String()+" gradient", d, cuValues(dv))
			}
		}
	}
}
