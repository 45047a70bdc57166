// Package device is the seam between an op's Gorgonia side and the hardware its kernels run
// on: a Device allocates memory that only it can read (an opaque Ptr), copies to and from the
// host, launches the CUDA kernels of ops/cuda/kernels by name and multiplies row-major
// matrices. Two implementations: Emulated (host memory behind fake device addresses, the
// kernels run by ops/cuda/emu, GEMMs by the CPU BLAS; for CI) and, on a machine with a GPU,
// the CUDA driver with cuBLAS (cuda.go). An Engine (engine.go) makes a Device's memory the
// backing of gorgonia.org/tensor values, so Gorgonia's tape machine runs over it.
package device

import (
	"fmt"
	"unsafe"
)

// Ptr is a device address. Host code must never dereference it: on the emulated device it is
// not even a valid host address (see Emulated), so a host read of device memory faults in CI
// instead of silently working.
type Ptr uint64

// Add returns p moved by n bytes (a sub-buffer: a channel's slice, a batch's image).
func (p Ptr) Add(n int) Ptr { return p + Ptr(n) }

// Dim3 is a grid or block size, as CUDA's dim3.
type Dim3 [3]int

// Device is one accelerator (or its emulation). Every copy and launch runs in order on the
// device's one stream; CopyOut waits for what came before it, Sync waits for everything.
// A Device is not safe for concurrent use.
type Device interface {
	Name() string
	// Alloc returns n bytes of device memory, 256-byte aligned; Free returns them.
	Alloc(n int) (Ptr, error)
	Free(p Ptr) error
	// CopyIn copies len(src) bytes from the host to dst; CopyOut len(dst) bytes back;
	// Copy n bytes within the device.
	CopyIn(dst Ptr, src []byte) error
	CopyOut(dst []byte, src Ptr) error
	Copy(dst, src Ptr, n int) error
	// Zero sets n bytes at p to 0.
	Zero(p Ptr, n int) error
	// Launch runs a kernel of ops/cuda/kernels over grid×block threads with shared bytes of
	// dynamic shared memory. args follow the kernel's parameters: Ptr for pointers, int32,
	// uint32, int64, uint64, float32, float64 for the C types int, unsigned, long long,
	// unsigned long long, float, double.
	Launch(kernel string, grid, block Dim3, shared int, args ...any) error
	// Gemm is C = alpha·op(A)·op(B) + beta·C over row-major float32 matrices (cublas.Gemm's
	// contract: op(A) is m×k, op(B) k×n, leading dimensions in elements).
	Gemm(transA, transB bool, m, n, k int, alpha float32, a Ptr, lda int, b Ptr, ldb int, beta float32, c Ptr, ldc int) error
	// Sync waits for every queued copy and launch and reports a launch's deferred failure.
	Sync() error
	// AllocPinned returns n bytes of page-locked host staging (cuMemAllocHost on a GPU),
	// FreePinned returns it. CopyInPinned queues a copy of its first n bytes to dst and
	// returns at once: the staging must not be written again until the copy has run (after
	// Sync, a CopyOut, or any later call that waits) — hence two stagings, one filled while
	// the other is copied.
	AllocPinned(n int) (Pinned, error)
	FreePinned(p Pinned) error
	CopyInPinned(dst Ptr, src Pinned, n int) error
}

// Pinned is page-locked host memory a Device copies from asynchronously.
type Pinned interface {
	// Bytes is the staging as a Go slice, valid until FreePinned.
	Bytes() []byte
}

// Bytes32 views a float32 or int32 slice as its bytes (for CopyIn/CopyOut), without a copy.
func Bytes32[T ~float32 | ~int32 | ~uint32](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 4*len(s))
}

// Bytes64 views a float64 slice as its bytes.
func Bytes64(s []float64) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), 8*len(s))
}

// Grid1D is the launch shape of the one-thread-per-element kernels (elementwise.cu and
// friends): blocks of 256 threads, enough of them to cover n.
func Grid1D(n int) (grid, block Dim3) {
	return Dim3{max((n+255)/256, 1), 1, 1}, Dim3{256, 1, 1}
}

// errorf prefixes messages with the package name.
func errorf(format string, args ...any) error { return fmt.Errorf("device: "+format, args...) }
