//go:build cgo

package device

import (
	"unsafe"

	"github.com/ssl4dp/ssl4dp/ops/cuda/emu"
)

// Launch translates each Ptr argument into the host slice from that address to the end of
// its allocation, or to the next pointer argument inside the same allocation (sub-buffers:
// a mean and an invstd in one [2C] tensor) — []float32 or []int32 as the kernel's parameter
// says — and runs the kernel under the emulator, which copies the slices between guard
// bands and back. The same address twice is one buffer (in-place kernels).
func (e *Emulated) Launch(kernel string, grid, block Dim3, shared int, args ...any) error {
	if err := e.flush(); err != nil {
		return err
	}
	sig, ok := emu.Signature(kernel)
	if !ok {
		return errorf("emulated: no kernel %q in ops/cuda/kernels", kernel)
	}
	if len(sig) != len(args) {
		return errorf("emulated: %s takes %d arguments (%s), got %d", kernel, len(sig), sig, len(args))
	}
	conv := make([]any, len(args))
	for i, a := range args {
		p, isPtr := a.(Ptr)
		switch c := sig[i]; {
		case c == 'F' || c == 'f' || c == 'I' || c == 'i':
			if !isPtr {
				return errorf("emulated: %s argument %d is a pointer, got %T", kernel, i, a)
			}
			w, err := e.rest32(p)
			if err != nil {
				return errorf("emulated: %s argument %d: %w", kernel, i, err)
			}
			w = w[:min(len(w), nextArg(args, p))]
			if c == 'F' || c == 'f' {
				conv[i] = unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(w))), len(w))
			} else {
				conv[i] = unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(w))), len(w))
			}
		case isPtr:
			return errorf("emulated: %s argument %d is not a pointer, got a Ptr", kernel, i)
		default:
			conv[i] = a
		}
	}
	e.Launches++
	if err := emu.Launch(kernel, grid, block, shared, conv...); err != nil {
		return errorf("emulated: %w", err)
	}
	return nil
}

// nextArg is the distance in words from p to the nearest pointer argument above it in the
// same allocation (its successor's start bounds p's slice), or a large number.
func nextArg(args []any, p Ptr) int {
	best := int(^uint(0) >> 1)
	for _, a := range args {
		if q, ok := a.(Ptr); ok && q > p && q-p < 1<<32 {
			best = min(best, int(q-p)/4)
		}
	}
	return best
}
