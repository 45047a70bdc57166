package ops

import (
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// Resize on a device: resize.cu's resize_sparse with the CPU op's own interpolation
// matrices in CSR form (so every mode and coordinate convention is the CPU's), and the
// transposed matrices for the gradient (a gather, no atomics).

// csr is m (rows×cols, row-major; transposed when transpose) in compressed sparse rows.
func csr(m []float64, rows, cols int, transpose bool) (ptr, idx []int32, val []float32) {
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

// resizeDevice resamples src [P, ih, iw] into dst [P, oh, ow] (backward: the adjoint, from
// the output's shape back to the input's).
func (op resizeOp) resizeDevice(e *device.Engine, src, dst *tensor.Dense, backward bool) error {
	ih, iw, oh, ow := op.h.in, op.w.in, op.h.out, op.w.out
	hp, hi, hv := csr(op.rh, oh, ih, backward)
	wp, wi, wv := csr(op.rw, ow, iw, backward)
	if backward {
		ih, iw, oh, ow = oh, ow, ih, iw
	}
	k := newKernels(e)
	p := op.planes()
	k.launch1D("resize_sparse", p*oh*ow, ptr(src), ptr(dst), p, ih, iw, oh, ow,
		k.int32s(hp), k.int32s(hi), k.f32s(hv), k.int32s(wp), k.int32s(wi), k.f32s(wv))
	return k.done("Resize")
}
