//go:build cgo

package ops

import (
	"testing"

	"gorgonia.org/tensor"
)

// cuCSR is the dense rows×cols matrix m (row-major) in CSR form, weights as float32 (as the
// CPU's resize converts them), or its transpose when transpose is set.
func cuCSR(m []float64, rows, cols int, transpose bool) (ptr, idx []int32, val []float32) {
	at := func(r, c int) float64 { return m[r*cols+c] }
	if transpose {
		rows, cols = cols, rows
		at = func(r, c int) float64 { return m[c*rows+r] }
	}
	ptr = append(ptr, 0)
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			if v := at(r, c); v != 0 {
				idx, val = append(idx, int32(c)), append(val, float32(v))
			}
		}
		ptr = append(ptr, int32(len(idx)))
	}
	return ptr, idx, val
}

// TestCUDAResizeParity: resize_sparse with the CPU's own matrices against resizeDo (and, with
// the transposed matrices, resizeDiffDo): bilinear in every coordinate mode, up and down,
// to and from one pixel, and nearest.
func TestCUDAResizeParity(t *testing.T) {
	for _, tc := range []struct {
		in      [4]int
		oh, ow  int
		mode    ResizeMode
		coord   CoordMode
		nearest NearestMode
	}{
		{[4]int{2, 3, 4, 5}, 8, 10, Linear, HalfPixel, 0},
		{[4]int{1, 2, 5, 7}, 9, 3, Linear, AlignCorners, 0},
		{[4]int{1, 1, 7, 6}, 1, 4, Linear, PytorchHalfPixel, 0},
		{[4]int{1, 2, 1, 1}, 5, 3, Linear, AlignCorners, 0},
		{[4]int{2, 1, 6, 5}, 4, 11, Linear, Asymmetric, 0},
		{[4]int{1, 2, 3, 4}, 7, 9, Nearest, Asymmetric, Floor},
		{[4]int{1, 1, 7, 7}, 3, 5, Nearest, HalfPixel, RoundPreferFloor},
	} {
		in := tensor.Shape(tc.in[:])
		op := resizeOp{mode: tc.mode, coord: tc.coord, nearest: tc.nearest, in: in, buf: new(outBuf),
			h: resizeAxis{in: in[2], out: tc.oh}, w: resizeAxis{in: in[3], out: tc.ow}}
		op.rh = op.h.matrix(tc.mode, tc.coord, tc.nearest)
		op.rw = op.w.matrix(tc.mode, tc.coord, tc.nearest)
		op.out = tensor.Shape{in[0], in[1], tc.oh, tc.ow}
		x := cuRand(41, in.TotalSize())
		v, err := resizeDo[float32](op, newValue(in, x))
		if err != nil {
			t.Fatal(err)
		}
		planes, ih, iw := in[0]*in[1], in[2], in[3]
		hp, hi, hv := cuCSR(op.rh, tc.oh, ih, false)
		wp, wi, wv := cuCSR(op.rw, tc.ow, iw, false)
		y := cuNaN(op.out.TotalSize())
		grid, block := cuGrid(len(y))
		cuRun(t, "resize_sparse", grid, block, 0, x, y, planes, ih, iw, tc.oh, tc.ow, hp, hi, hv, wp, wi, wv)
		cuClose(t, "resize forward", y, elems[float32](v.(*tensor.Dense)), 1e-5)

		dy := cuRand(42, len(y))
		dv, err := resizeDiffDo[float32](op, new(outBuf), newValue(op.out, dy))
		if err != nil {
			t.Fatal(err)
		}
		hp, hi, hv = cuCSR(op.rh, tc.oh, ih, true)
		wp, wi, wv = cuCSR(op.rw, tc.ow, iw, true)
		dx := cuNaN(len(x))
		grid, block = cuGrid(len(dx))
		cuRun(t, "resize_sparse", grid, block, 0, dy, dx, planes, tc.oh, tc.ow, ih, iw, hp, hi, hv, wp, wi, wv)
		cuClose(t, "resize backward", dx, elems[float32](dv.(*tensor.Dense)), 1e-5)
	}
}
