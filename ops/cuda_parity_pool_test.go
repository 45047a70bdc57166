//go:build cgo

package ops

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// cuPoolGeoms are pooling geometries with ragged edges: ResNet's 3×3/2 pad 1 on an odd
// plane, ceil mode, a dilated window that can hold only padding, a 1×1 plane.
var cuPoolGeoms = []struct {
	n, c, h, w int
	p          PoolParams
}{
	{2, 3, 7, 9, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}},
	{1, 2, 5, 6, PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, CeilMode: true}},
	{1, 1, 4, 5, PoolParams{Kernel: [2]int{3, 2}, Stride: [2]int{1, 3}, Pads: [4]int{2, 1, 2, 0}, Dilation: [2]int{3, 2}}},
	{3, 1, 1, 1, PoolParams{Kernel: [2]int{1, 1}}},
	{1, 2, 6, 6, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}, Pads: [4]int{1, 1, 1, 1}, CountIncludePad: true}},
}

func cuGeom(h, w int, p PoolParams) geom2D {
	s := [2]int{oneIfZero(p.Stride[0]), oneIfZero(p.Stride[1])}
	d := [2]int{oneIfZero(p.Dilation[0]), oneIfZero(p.Dilation[1])}
	g := geom2D{H: h, W: w, KH: p.Kernel[0], KW: p.Kernel[1], SH: s[0], SW: s[1], DH: d[0], DW: d[1],
		PT: p.Pads[0], PL: p.Pads[1], PB: p.Pads[2], PR: p.Pads[3]}
	g.OH = windowCount(g.H, g.KH, g.SH, g.DH, g.PT, g.PB, p.CeilMode)
	g.OW = windowCount(g.W, g.KW, g.SW, g.DW, g.PL, g.PR, p.CeilMode)
	return g
}

func cuGeomArgs(g geom2D) []any {
	return []any{g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL}
}

// TestCUDAMaxPoolParity: values rounded to create ties (the first maximum wins), one NaN
// (it wins its windows), against maxPool, argmaxPlanes and maxPoolBackward: all exact.
func TestCUDAMaxPoolParity(t *testing.T) {
	for _, tc := range cuPoolGeoms {
		g := cuGeom(tc.h, tc.w, tc.p)
		planes := tc.n * tc.c
		x := cuRand(31, planes*g.H*g.W)
		for i := range x {
			x[i] = float32(math.Round(float64(x[i])*3)) / 3
		}
		if len(x) > 5 {
			x[5] = float32(math.NaN())
		}
		want := make([]float32, planes*g.OH*g.OW)
		maxPool(&g, planes, x, want, math.MaxFloat32)
		wantAt := make([]int32, 0, len(want))
		argmaxPlanes(&g, planes, x, func(_ int, _ []float32, at []int) {
			for _, a := range at {
				wantAt = append(wantAt, int32(a))
			}
		})
		y, at := cuNaN(len(want)), make([]int32, len(want))
		grid, block := cuGrid(len(want))
		args := append(append([]any{x, y, at, planes}, cuGeomArgs(g)...), float32(math.MaxFloat32))
		cuRun(t, "maxpool_fwd", grid, block, 0, args...)
		cuExact(t, "maxpool_fwd", y, want)
		for i := range at {
			if at[i] != wantAt[i] {
				t.Fatalf("%v: argmax[%d] = %d, want %d", g, i, at[i], wantAt[i])
			}
		}

		dy := cuRand(32, len(want))
		wantDx := make([]float32, len(x))
		maxPoolBackward(&g, planes, x, dy, wantDx)
		dx := cuNaN(len(x))
		grid, block = cuGrid(len(x))
		cuRun(t, "maxpool_bwd", grid, block, 0, append([]any{dy, at, dx, planes}, cuGeomArgs(g)...)...)
		cuExact(t, "maxpool_bwd", dx, wantDx)
	}
}

// cuWindows flattens windows into (start, end, count) triples and their inverse: for each
// input index, the range of windows that hold it.
func cuWindows(ws []window, n int) (flat, inv []int32) {
	for _, w := range ws {
		flat = append(flat, int32(w.start), int32(w.end), int32(w.count))
	}
	inv = make([]int32, 2*n)
	for i := 0; i < n; i++ {
		lo, hi := -1, -1
		for o, w := range ws {
			if w.start <= i && i < w.end {
				if lo < 0 {
					lo = o
				}
				hi = o + 1
			}
		}
		if lo < 0 {
			lo, hi = 0, 0
		}
		inv[2*i], inv[2*i+1] = int32(lo), int32(hi)
	}
	return flat, inv
}

// TestCUDAAvgPoolParity: fixed windows (with and without counting padding), adaptive bins
// (overlapping ones included) and the global pool, against avgPool and avgPoolBackward:
// the same summation order, so exact; the block-reduced global forward to 1e-6.
func TestCUDAAvgPoolParity(t *testing.T) {
	type layout struct {
		n, c, h, w int
		rows, cols []window
	}
	var cases []layout
	for _, tc := range cuPoolGeoms {
		g := cuGeom(tc.h, tc.w, tc.p)
		cases = append(cases, layout{tc.n, tc.c, tc.h, tc.w,
			fixedWindows(g.OH, g.H, g.KH, g.SH, g.PT, g.PB, tc.p.CountIncludePad), fixedWindows(g.OW, g.W, g.KW, g.SW, g.PL, g.PR, tc.p.CountIncludePad)})
	}
	cases = append(cases, layout{2, 2, 7, 5, adaptiveWindows(3, 7), adaptiveWindows(6, 5)}, layout{2, 3, 5, 7, adaptiveWindows(1, 5), adaptiveWindows(1, 7)})
	for _, tc := range cases {
		op := &avgPoolOp{x: tensor.Shape{tc.n, tc.c, tc.h, tc.w}, oh: len(tc.rows), ow: len(tc.cols), rows: tc.rows, cols: tc.cols}
		planes := tc.n * tc.c
		x := cuRand(33, planes*tc.h*tc.w)
		want := make([]float32, planes*op.oh*op.ow)
		avgPool(op, x, want)
		rows, hinv := cuWindows(tc.rows, tc.h)
		cols, winv := cuWindows(tc.cols, tc.w)
		y := cuNaN(len(want))
		grid, block := cuGrid(len(want))
		cuRun(t, "avgpool_fwd", grid, block, 0, x, y, planes, tc.h, tc.w, op.oh, op.ow, rows, cols)
		cuExact(t, "avgpool_fwd", y, want)
		if op.oh == 1 && op.ow == 1 {
			y = cuNaN(len(want))
			cuRun(t, "global_avgpool_fwd", cu1(planes), cu1(96), 0, x, y, tc.h*tc.w)
			cuClose(t, "global_avgpool_fwd", y, want, 1e-6)
		}

		dy := cuRand(34, len(want))
		wantDx := make([]float32, len(x))
		avgPoolBackward(op, dy, wantDx)
		dx := cuNaN(len(x))
		grid, block = cuGrid(len(x))
		cuRun(t, "avgpool_bwd", grid, block, 0, dy, dx, planes, tc.h, tc.w, op.oh, op.ow, rows, cols, hinv, winv)
		cuExact(t, "avgpool_bwd", dx, wantDx)
	}
}
