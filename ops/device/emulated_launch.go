//go:build cgo

package device

import (
	"unsafe"

	"github.com/ssl4dp/ssl4dp/ops/cuda/emu"
)

// Launch translates each Ptr argument into the host slice from that address to the end of
// its allocation — []float32 or []int32 as the kernel's parameter says — and runs the kernel
// under the emulator, which copies the slices between guard bands and back. Two pointer
// arguments into one allocation must be the same address (in-place kernels) or the
// emulator reports them as overlapping.
func (e *Emulated) Launch(kernel string, grid, block Dim3, shared int, args ...any) error {
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
