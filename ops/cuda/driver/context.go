//go:build cgo

package driver

/*
#include <stddef.h>
#include <stdlib.h>
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext, *CUmodule, *CUfunction, *CUstream;
CUresult ssl4dp_ctxOpen(CUdevice d, CUcontext *ctx, CUstream *stream);
CUresult ssl4dp_ctxCurrent(CUcontext ctx);
CUresult ssl4dp_ctxClose(CUdevice d, CUcontext ctx, CUstream stream);
CUresult ssl4dp_memAlloc(CUcontext ctx, CUdeviceptr *p, size_t n);
CUresult ssl4dp_memFree(CUcontext ctx, CUdeviceptr p);
CUresult ssl4dp_hostAlloc(CUcontext ctx, void **p, size_t n);
CUresult ssl4dp_hostFree(CUcontext ctx, void *p);
CUresult ssl4dp_copyIn(CUcontext ctx, CUstream s, CUdeviceptr d, const void *h, size_t n, int wait);
CUresult ssl4dp_copyOut(CUcontext ctx, CUstream s, void *h, CUdeviceptr d, size_t n, int wait);
CUresult ssl4dp_memZero(CUcontext ctx, CUstream s, CUdeviceptr d, size_t n);
CUresult ssl4dp_streamSync(CUcontext ctx, CUstream s);
CUresult ssl4dp_moduleLoad(CUcontext ctx, CUmodule *m, const void *img);
CUresult ssl4dp_moduleUnload(CUcontext ctx, CUmodule m);
CUresult ssl4dp_moduleFunction(CUcontext ctx, CUfunction *f, CUmodule m, const char *name);
CUresult ssl4dp_launch(CUcontext ctx, CUstream s, CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
	unsigned int bx, unsigned int by, unsigned int bz, unsigned int shared, unsigned long long *slots, int n);
*/
import "C"

import (
	"fmt"
	"math"
	"unsafe"
)

// Ptr is a device address.
type Ptr uint64

// Context is one GPU's primary context with one stream: every copy and launch of a Context
// runs in order on that stream. A Context is not safe for concurrent use.
type Context struct {
	Device Device
	ctx    C.CUcontext
	stream C.CUstream
}

// Open probes the driver and opens GPU i.
func Open(i int) (*Context, error) {
	info, err := Probe()
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= len(info.Devices) {
		return nil, &UnavailableError{Reason: fmt.Sprintf("no GPU %d: the driver sees %d", i, len(info.Devices))}
	}
	c := &Context{Device: info.Devices[i]}
	if err := check("cuDevicePrimaryCtxRetain", C.ssl4dp_ctxOpen(C.CUdevice(c.Device.handle), &c.ctx, &c.stream)); err != nil {
		return nil, err
	}
	return c, nil
}

// Close waits for the stream and releases the context.
func (c *Context) Close() error {
	return check("cuStreamSynchronize", C.ssl4dp_ctxClose(C.CUdevice(c.Device.handle), c.ctx, c.stream))
}

// Stream is the context's CUstream, for libraries that queue work on it (cuBLAS).
func (c *Context) Stream() unsafe.Pointer { return unsafe.Pointer(c.stream) }

// Current makes the context current on the calling OS thread, for libraries that call the
// driver themselves; the caller holds the thread (runtime.LockOSThread) across its calls.
func (c *Context) Current() error { return check("cuCtxSetCurrent", C.ssl4dp_ctxCurrent(c.ctx)) }

// Alloc reserves n bytes of device memory (not zeroed).
func (c *Context) Alloc(n int) (Ptr, error) {
	var p C.CUdeviceptr
	err := check("cuMemAlloc", C.ssl4dp_memAlloc(c.ctx, &p, C.size_t(n)))
	return Ptr(p), err
}

// Free returns memory from Alloc.
func (c *Context) Free(p Ptr) error {
	return check("cuMemFree", C.ssl4dp_memFree(c.ctx, C.CUdeviceptr(p)))
}

// Pinned is page-locked host memory (cuMemAllocHost), the staging a batch goes through:
// copies from it run asynchronously at full bus speed.
type Pinned struct {
	ptr unsafe.Pointer
	n   int
}

// Bytes is the pinned memory as a Go slice; valid until FreePinned.
func (p *Pinned) Bytes() []byte { return unsafe.Slice((*byte)(p.ptr), p.n) }

// AllocPinned reserves n bytes of page-locked host memory.
func (c *Context) AllocPinned(n int) (*Pinned, error) {
	p := &Pinned{n: n}
	if err := check("cuMemAllocHost", C.ssl4dp_hostAlloc(c.ctx, &p.ptr, C.size_t(n))); err != nil {
		return nil, err
	}
	return p, nil
}

// FreePinned returns memory from AllocPinned.
func (c *Context) FreePinned(p *Pinned) error {
	return check("cuMemFreeHost", C.ssl4dp_hostFree(c.ctx, p.ptr))
}

// CopyIn copies src to device memory at dst and waits for it (src is Go memory).
func (c *Context) CopyIn(dst Ptr, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	return check("cuMemcpyHtoDAsync", C.ssl4dp_copyIn(c.ctx, c.stream, C.CUdeviceptr(dst), unsafe.Pointer(&src[0]), C.size_t(len(src)), 1))
}

// CopyInPinned queues a copy from pinned staging to dst on the stream without waiting: the
// staging must not be rewritten before the next Sync.
func (c *Context) CopyInPinned(dst Ptr, src *Pinned, n int) error {
	if n > src.n {
		return fmt.Errorf("driver: CopyInPinned of %d bytes from %d of staging", n, src.n)
	}
	return check("cuMemcpyHtoDAsync", C.ssl4dp_copyIn(c.ctx, c.stream, C.CUdeviceptr(dst), src.ptr, C.size_t(n), 0))
}

// CopyOut copies device memory at src into dst after everything queued before it.
func (c *Context) CopyOut(dst []byte, src Ptr) error {
	if len(dst) == 0 {
		return nil
	}
	return check("cuMemcpyDtoHAsync", C.ssl4dp_copyOut(c.ctx, c.stream, unsafe.Pointer(&dst[0]), C.CUdeviceptr(src), C.size_t(len(dst)), 1))
}

// Zero queues the zeroing of n bytes at p.
func (c *Context) Zero(p Ptr, n int) error {
	return check("cuMemsetD8Async", C.ssl4dp_memZero(c.ctx, c.stream, C.CUdeviceptr(p), C.size_t(n)))
}

// Sync waits for everything queued on the stream; a kernel's failure shows here.
func (c *Context) Sync() error {
	return check("cuStreamSynchronize", C.ssl4dp_streamSync(c.ctx, c.stream))
}

// Module is loaded PTX (JIT-compiled by the driver for the GPU at load).
type Module struct {
	c   *Context
	mod C.CUmodule
}

// LoadPTX loads a PTX module; the text needs no trailing NUL (one is added).
func (c *Context) LoadPTX(ptx []byte) (*Module, error) {
	img := C.CBytes(append(append([]byte(nil), ptx...), 0))
	defer C.free(img)
	m := &Module{c: c}
	if err := check("cuModuleLoadData", C.ssl4dp_moduleLoad(c.ctx, &m.mod, img)); err != nil {
		return nil, err
	}
	return m, nil
}

// Unload frees the module.
func (m *Module) Unload() error {
	return check("cuModuleUnload", C.ssl4dp_moduleUnload(m.c.ctx, m.mod))
}

// Function is a kernel of a loaded module.
type Function struct {
	Name string
	f    C.CUfunction
}

// Function finds an extern "C" kernel by name.
func (m *Module) Function(name string) (Function, error) {
	cname := C.CString(name)
	defer C.free(unsafe.Pointer(cname))
	fn := Function{Name: name}
	if err := check("cuModuleGetFunction("+name+")", C.ssl4dp_moduleFunction(m.c.ctx, &fn.f, m.mod, cname)); err != nil {
		return Function{}, err
	}
	return fn, nil
}

// Dim3 is a grid or block size.
type Dim3 [3]uint32

// Launch queues kernel f on the stream. Its arguments, in the kernel's order, are Ptr
// (pointers), int32, uint32, int64, uint64, float32 or float64 — the C types int, unsigned,
// long long, unsigned long long, float and double; any other type is an error, since the kernel would read garbage.
func (c *Context) Launch(f Function, grid, block Dim3, shared int, args ...any) error {
	slots, err := argSlots(f.Name, args)
	if err != nil {
		return err
	}
	cslots := (*C.ulonglong)(C.malloc(C.size_t(8 * max(len(slots), 1))))
	defer C.free(unsafe.Pointer(cslots))
	copy(unsafe.Slice((*uint64)(unsafe.Pointer(cslots)), len(slots)), slots)
	return check("cuLaunchKernel("+f.Name+")", C.ssl4dp_launch(c.ctx, c.stream, f.f, C.uint(grid[0]), C.uint(grid[1]), C.uint(grid[2]),
		C.uint(block[0]), C.uint(block[1]), C.uint(block[2]), C.uint(shared), cslots, C.int(len(slots))))
}

// argSlots lays each argument into an 8-byte slot as the kernel reads it (little-endian: a
// 4-byte value in the slot's first bytes).
func argSlots(kernel string, args []any) ([]uint64, error) {
	if len(args) > 32 {
		return nil, fmt.Errorf("driver: launch %s: %d arguments; at most 32", kernel, len(args))
	}
	slots := make([]uint64, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case Ptr:
			slots[i] = uint64(v)
		case int32:
			slots[i] = uint64(uint32(v))
		case uint32:
			slots[i] = uint64(v)
		case int64:
			slots[i] = uint64(v)
		case uint64:
			slots[i] = v
		case float32:
			slots[i] = uint64(math.Float32bits(v))
		case float64:
			slots[i] = math.Float64bits(v)
		default:
			return nil, fmt.Errorf("driver: launch %s: argument %d is a %T; want Ptr, int32, uint32, int64, uint64, float32 or float64", kernel, i, a)
		}
	}
	return slots, nil
}
