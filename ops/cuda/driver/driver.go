//go:build cgo

package driver

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <stddef.h>

// The driver API's types as its ABI has them (cuda.h is not needed to build): CUresult and
// CUdevice are int, contexts, modules, functions, streams and device pointers are opaque
// pointers or 64-bit integers. Only the _v2 entry points that have been stable since CUDA
// 4.0 are used; the primary context (cuDevicePrimaryCtxRetain) avoids cuCtxCreate, whose
// signature changed in CUDA 13 (cuCtxCreate_v4).
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext, *CUmodule, *CUfunction, *CUstream;

static void *lib;

static CUresult (*p_cuInit)(unsigned int);
static CUresult (*p_cuDriverGetVersion)(int *);
static CUresult (*p_cuDeviceGetCount)(int *);
static CUresult (*p_cuDeviceGet)(CUdevice *, int);
static CUresult (*p_cuDeviceGetName)(char *, int, CUdevice);
static CUresult (*p_cuDeviceTotalMem)(size_t *, CUdevice);
static CUresult (*p_cuDeviceGetAttribute)(int *, int, CUdevice);
static CUresult (*p_cuGetErrorName)(CUresult, const char **);
static CUresult (*p_cuGetErrorString)(CUresult, const char **);
static CUresult (*p_cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
static CUresult (*p_cuDevicePrimaryCtxRelease)(CUdevice);
static CUresult (*p_cuCtxSetCurrent)(CUcontext);
static CUresult (*p_cuCtxSynchronize)(void);
static CUresult (*p_cuMemAlloc)(CUdeviceptr *, size_t);
static CUresult (*p_cuMemFree)(CUdeviceptr);
static CUresult (*p_cuMemAllocHost)(void **, size_t);
static CUresult (*p_cuMemFreeHost)(void *);
static CUresult (*p_cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
static CUresult (*p_cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
static CUresult (*p_cuMemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
static CUresult (*p_cuStreamCreate)(CUstream *, unsigned int);
static CUresult (*p_cuStreamDestroy)(CUstream);
static CUresult (*p_cuStreamSynchronize)(CUstream);
static CUresult (*p_cuModuleLoadData)(CUmodule *, const void *);
static CUresult (*p_cuModuleUnload)(CUmodule);
static CUresult (*p_cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
static CUresult (*p_cuLaunchKernel)(CUfunction, unsigned int, unsigned int, unsigned int,
	unsigned int, unsigned int, unsigned int, unsigned int, CUstream, void **, void **);

// load resolves every entry point the device layer uses, so that a library missing one (not
// a driver, or one too old) fails here, at start-up, with its name. SYM returns the name of
// the first missing entry point to Go.
#define SYM(var, name) do { *(void **)(&var) = dlsym(lib, name); if (!var) return name; } while (0)

static const char *load(const char *path, const char **dlerr) {
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib) { *dlerr = dlerror(); return ""; }
	SYM(p_cuInit, "cuInit");
	SYM(p_cuDriverGetVersion, "cuDriverGetVersion");
	SYM(p_cuDeviceGetCount, "cuDeviceGetCount");
	SYM(p_cuDeviceGet, "cuDeviceGet");
	SYM(p_cuDeviceGetName, "cuDeviceGetName");
	SYM(p_cuDeviceTotalMem, "cuDeviceTotalMem_v2");
	SYM(p_cuDeviceGetAttribute, "cuDeviceGetAttribute");
	SYM(p_cuGetErrorName, "cuGetErrorName");
	SYM(p_cuGetErrorString, "cuGetErrorString");
	SYM(p_cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
	SYM(p_cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
	SYM(p_cuCtxSetCurrent, "cuCtxSetCurrent");
	SYM(p_cuCtxSynchronize, "cuCtxSynchronize");
	SYM(p_cuMemAlloc, "cuMemAlloc_v2");
	SYM(p_cuMemFree, "cuMemFree_v2");
	SYM(p_cuMemAllocHost, "cuMemAllocHost_v2");
	SYM(p_cuMemFreeHost, "cuMemFreeHost");
	SYM(p_cuMemcpyHtoDAsync, "cuMemcpyHtoDAsync_v2");
	SYM(p_cuMemcpyDtoHAsync, "cuMemcpyDtoHAsync_v2");
	SYM(p_cuMemsetD8Async, "cuMemsetD8Async");
	SYM(p_cuStreamCreate, "cuStreamCreate");
	SYM(p_cuStreamDestroy, "cuStreamDestroy_v2");
	SYM(p_cuStreamSynchronize, "cuStreamSynchronize");
	SYM(p_cuModuleLoadData, "cuModuleLoadData");
	SYM(p_cuModuleUnload, "cuModuleUnload");
	SYM(p_cuModuleGetFunction, "cuModuleGetFunction");
	SYM(p_cuLaunchKernel, "cuLaunchKernel");
	return NULL;
}

static CUresult cuInit_(unsigned int f) { return p_cuInit(f); }
static CUresult cuDriverGetVersion_(int *v) { return p_cuDriverGetVersion(v); }
static CUresult cuDeviceGetCount_(int *n) { return p_cuDeviceGetCount(n); }
static CUresult cuDeviceGet_(CUdevice *d, int i) { return p_cuDeviceGet(d, i); }
static CUresult cuDeviceGetName_(char *s, int n, CUdevice d) { return p_cuDeviceGetName(s, n, d); }
static CUresult cuDeviceTotalMem_(size_t *b, CUdevice d) { return p_cuDeviceTotalMem(b, d); }
static CUresult cuDeviceGetAttribute_(int *v, int a, CUdevice d) { return p_cuDeviceGetAttribute(v, a, d); }
static const char *errName(CUresult r) { const char *s = NULL; if (p_cuGetErrorName && p_cuGetErrorName(r, &s) == 0) return s; return NULL; }
static const char *errString(CUresult r) { const char *s = NULL; if (p_cuGetErrorString && p_cuGetErrorString(r, &s) == 0) return s; return NULL; }

// Every call below makes ctx current first: a context is current per OS thread, and a
// goroutine may run on any thread between two calls. cuCtxSetCurrent is cheap.
#define CUR(ctx) do { CUresult r_ = p_cuCtxSetCurrent(ctx); if (r_) return r_; } while (0)

CUresult ssl4dp_ctxOpen(CUdevice d, CUcontext *ctx, CUstream *stream) {
	CUresult r = p_cuDevicePrimaryCtxRetain(ctx, d);
	if (r) return r;
	CUR(*ctx);
	return p_cuStreamCreate(stream, 1); // CU_STREAM_NON_BLOCKING
}
CUresult ssl4dp_ctxCurrent(CUcontext ctx) { return p_cuCtxSetCurrent(ctx); }
CUresult ssl4dp_ctxClose(CUdevice d, CUcontext ctx, CUstream stream) {
	CUR(ctx);
	CUresult r = p_cuStreamSynchronize(stream);
	CUresult r2 = p_cuStreamDestroy(stream);
	CUresult r3 = p_cuDevicePrimaryCtxRelease(d);
	return r ? r : r2 ? r2 : r3;
}
CUresult ssl4dp_memAlloc(CUcontext ctx, CUdeviceptr *p, size_t n) { CUR(ctx); return p_cuMemAlloc(p, n); }
CUresult ssl4dp_memFree(CUcontext ctx, CUdeviceptr p) { CUR(ctx); return p_cuMemFree(p); }
CUresult ssl4dp_hostAlloc(CUcontext ctx, void **p, size_t n) { CUR(ctx); return p_cuMemAllocHost(p, n); }
CUresult ssl4dp_hostFree(CUcontext ctx, void *p) { CUR(ctx); return p_cuMemFreeHost(p); }
// The copies of Go memory wait for the stream before returning, so the Go memory is not
// touched after the call (cgo's rule); copies from pinned staging (hostAlloc) need not.
CUresult ssl4dp_copyIn(CUcontext ctx, CUstream s, CUdeviceptr d, const void *h, size_t n, int wait) {
	CUR(ctx);
	CUresult r = p_cuMemcpyHtoDAsync(d, h, n, s);
	return r || !wait ? r : p_cuStreamSynchronize(s);
}
CUresult ssl4dp_copyOut(CUcontext ctx, CUstream s, void *h, CUdeviceptr d, size_t n, int wait) {
	CUR(ctx);
	CUresult r = p_cuMemcpyDtoHAsync(h, d, n, s);
	return r || !wait ? r : p_cuStreamSynchronize(s);
}
CUresult ssl4dp_memZero(CUcontext ctx, CUstream s, CUdeviceptr d, size_t n) { CUR(ctx); return p_cuMemsetD8Async(d, 0, n, s); }
CUresult ssl4dp_streamSync(CUcontext ctx, CUstream s) { CUR(ctx); return p_cuStreamSynchronize(s); }
CUresult ssl4dp_moduleLoad(CUcontext ctx, CUmodule *m, const void *img) { CUR(ctx); return p_cuModuleLoadData(m, img); }
CUresult ssl4dp_moduleUnload(CUcontext ctx, CUmodule m) { CUR(ctx); return p_cuModuleUnload(m); }
CUresult ssl4dp_moduleFunction(CUcontext ctx, CUfunction *f, CUmodule m, const char *name) { CUR(ctx); return p_cuModuleGetFunction(f, m, name); }
// launch passes n kernel arguments of 8 bytes each (pointers, and scalars widened by the Go
// side to their own size within the slot: cuLaunchKernel reads each through its pointer).
CUresult ssl4dp_launch(CUcontext ctx, CUstream s, CUfunction f, unsigned int gx, unsigned int gy, unsigned int gz,
	unsigned int bx, unsigned int by, unsigned int bz, unsigned int shared, unsigned long long *slots, int n) {
	CUR(ctx);
	void *params[32];
	if (n > 32) return 1; // CUDA_ERROR_INVALID_VALUE
	for (int i = 0; i < n; i++) params[i] = &slots[i];
	return p_cuLaunchKernel(f, gx, gy, gz, bx, by, bz, shared, s, params, NULL);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// cgoLoad dlopens path and resolves every entry point the driver API wrapper uses.
func cgoLoad(path string) error {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var dlerr *C.char
	missing := C.load(cpath, &dlerr)
	switch {
	case missing == nil:
		return nil
	case dlerr != nil:
		return fmt.Errorf("%s", C.GoString(dlerr))
	}
	return fmt.Errorf("%s has no %s: not an NVIDIA driver library, or one too old; point %s at the driver's libcuda.so.1, update the driver, or use --device cpu", path, C.GoString(missing), LibraryEnv)
}

// check turns a CUresult into an error naming the call, the driver's name and text for it.
func check(call string, r C.CUresult) error {
	if r == 0 {
		return nil
	}
	name, text := C.errName(r), C.errString(r)
	if name == nil {
		return &Error{Call: call, Code: int(r)}
	}
	return &Error{Call: call, Code: int(r), Name: C.GoString(name), Text: C.GoString(text)}
}

type cgoAPI struct{}

func (cgoAPI) init() error { return check("cuInit", C.cuInit_(0)) }

func (cgoAPI) driverVersion() (int, error) {
	var v C.int
	err := check("cuDriverGetVersion", C.cuDriverGetVersion_(&v))
	return int(v), err
}

func (cgoAPI) deviceCount() (int, error) {
	var n C.int
	err := check("cuDeviceGetCount", C.cuDeviceGetCount_(&n))
	return int(n), err
}

func (cgoAPI) device(i int) (Device, error) {
	var d C.CUdevice
	if err := check("cuDeviceGet", C.cuDeviceGet_(&d, C.int(i))); err != nil {
		return Device{}, err
	}
	name := make([]byte, 256)
	if err := check("cuDeviceGetName", C.cuDeviceGetName_((*C.char)(unsafe.Pointer(&name[0])), C.int(len(name)), d)); err != nil {
		return Device{}, err
	}
	var mem C.size_t
	if err := check("cuDeviceTotalMem", C.cuDeviceTotalMem_(&mem, d)); err != nil {
		return Device{}, err
	}
	var major, minor C.int
	// CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75, _MINOR = 76 (cuda.h).
	if err := check("cuDeviceGetAttribute", C.cuDeviceGetAttribute_(&major, 75, d)); err != nil {
		return Device{}, err
	}
	if err := check("cuDeviceGetAttribute", C.cuDeviceGetAttribute_(&minor, 76, d)); err != nil {
		return Device{}, err
	}
	return Device{Index: i, Name: cString(name), Memory: int64(mem), Major: int(major), Minor: int(minor), handle: int(d)}, nil
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

func init() { api = cgoAPI{}; load = cgoLoad }
