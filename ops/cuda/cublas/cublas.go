//go:build cgo

// Package cublas loads NVIDIA's cuBLAS at run time (libcublas.so.13, .12 or .11, the first
// found) for the GEMMs of the CUDA device: convolutions (after im2col), matrix products and
// projector heads. Like ops/cuda/driver it needs nothing of CUDA to build.
//
// The API is row-major, as every ssl4dp tensor is: Gemm computes C = α·op(A)·op(B) + β·C
// with row-major A, B and C, which is cuBLAS's column-major Cᵀ = op(B)ᵀ·op(A)ᵀ.
package cublas

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>

typedef int cublasStatus_t;
typedef void *cublasHandle_t;

static void *lib;
static cublasStatus_t (*p_create)(cublasHandle_t *);
static cublasStatus_t (*p_destroy)(cublasHandle_t);
static cublasStatus_t (*p_setStream)(cublasHandle_t, void *);
static cublasStatus_t (*p_setMathMode)(cublasHandle_t, int);
static cublasStatus_t (*p_getProperty)(int, int *);
static cublasStatus_t (*p_sgemm)(cublasHandle_t, int, int, int, int, int, const float *, const float *, int,
	const float *, int, const float *, float *, int);

#define SYM(var, name) do { *(void **)(&var) = dlsym(lib, name); if (!var) return name; } while (0)

static const char *ssl4dp_cublas_load(const char *path, const char **dlerr) {
	lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!lib) { *dlerr = dlerror(); return ""; }
	SYM(p_create, "cublasCreate_v2");
	SYM(p_destroy, "cublasDestroy_v2");
	SYM(p_setStream, "cublasSetStream_v2");
	SYM(p_setMathMode, "cublasSetMathMode");
	SYM(p_getProperty, "cublasGetProperty");
	SYM(p_sgemm, "cublasSgemm_v2");
	return NULL;
}

static cublasStatus_t ssl4dp_cublas_version(int *major, int *minor, int *patch) {
	cublasStatus_t r = p_getProperty(0, major); // MAJOR_VERSION
	if (!r) r = p_getProperty(1, minor);
	if (!r) r = p_getProperty(2, patch);
	return r;
}
static cublasStatus_t ssl4dp_cublas_create(cublasHandle_t *h, void *stream) {
	cublasStatus_t r = p_create(h);
	return r ? r : p_setStream(*h, stream);
}
static cublasStatus_t ssl4dp_cublas_destroy(cublasHandle_t h) { return p_destroy(h); }
static cublasStatus_t ssl4dp_cublas_math(cublasHandle_t h, int mode) { return p_setMathMode(h, mode); }
static cublasStatus_t ssl4dp_cublas_sgemm(cublasHandle_t h, int ta, int tb, int m, int n, int k, float alpha,
	unsigned long long a, int lda, unsigned long long b, int ldb, float beta, unsigned long long c, int ldc) {
	return p_sgemm(h, ta, tb, m, n, k, &alpha, (const float *)a, lda, (const float *)b, ldb, &beta, (float *)c, ldc);
}
*/
import "C"

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/ssl4dp/ssl4dp/ops/cuda/driver"
)

// LibraryEnv names a cuBLAS library to load instead of searching (tests load a stand-in).
const LibraryEnv = "SSL4DP_LIBCUBLAS"

// Libraries are the files tried in order: CUDA 13's, 12's, then 11's cuBLAS.
var Libraries = []string{"libcublas.so.13", "libcublas.so.12", "libcublas.so.11"}

type loadResult struct {
	file, version string
	err           error
}

var (
	loadMu sync.Mutex
	loads  = map[string]loadResult{} // by the list of files tried
)

// Load finds and loads cuBLAS (once per process and $SSL4DP_LIBCUBLAS); it returns the file
// and cuBLAS's version.
func Load() (file, ver string, err error) {
	loadMu.Lock()
	defer loadMu.Unlock()
	libs := Libraries
	if p := os.Getenv(LibraryEnv); p != "" {
		libs = []string{p}
	}
	key := strings.Join(libs, "\x00")
	r, ok := loads[key]
	if !ok {
		r = load(libs)
		loads[key] = r
	}
	return r.file, r.version, r.err
}

func load(libs []string) loadResult {
	var tried []string
	for _, lib := range libs {
		cpath := C.CString(lib)
		var dlerr *C.char
		missing := C.ssl4dp_cublas_load(cpath, &dlerr)
		C.free(unsafe.Pointer(cpath))
		if dlerr != nil {
			tried = append(tried, C.GoString(dlerr))
			continue
		}
		if missing != nil {
			return loadResult{err: &driver.UnavailableError{Reason: fmt.Sprintf("%s has no %s: not cuBLAS, or one older than CUDA 11; point %s at CUDA's libcublas.so, or use --device cpu", lib, C.GoString(missing), LibraryEnv)}}
		}
		var major, minor, patch C.int
		if r := C.ssl4dp_cublas_version(&major, &minor, &patch); r != 0 {
			return loadResult{err: &driver.UnavailableError{Reason: fmt.Sprintf("%s: cublasGetProperty: %s", lib, status(r))}}
		}
		return loadResult{file: lib, version: fmt.Sprintf("%d.%d.%d", major, minor, patch)}
	}
	return loadResult{err: &driver.UnavailableError{Reason: fmt.Sprintf("no cuBLAS (%s): install CUDA's cuBLAS (e.g. pip's nvidia-cublas, or the toolkit) and put its folder on LD_LIBRARY_PATH, or use --device cpu",
		strings.Join(tried, "; "))}}
}

// Handle is a cuBLAS handle bound to a driver context's stream: its GEMMs queue there, in
// order with the context's copies and kernels.
type Handle struct {
	c *driver.Context
	h C.cublasHandle_t
}

// New loads cuBLAS if needed and creates a handle on c's stream, in fp32 (no TF32) unless
// SetTF32 says otherwise.
func New(c *driver.Context) (*Handle, error) {
	if _, _, err := Load(); err != nil {
		return nil, err
	}
	h := &Handle{c: c}
	err := h.call("cublasCreate", func() C.cublasStatus_t { return C.ssl4dp_cublas_create(&h.h, c.Stream()) })
	if err != nil {
		return nil, err
	}
	return h, nil
}

// Close destroys the handle.
func (h *Handle) Close() error {
	return h.call("cublasDestroy", func() C.cublasStatus_t { return C.ssl4dp_cublas_destroy(h.h) })
}

// SetTF32 lets GEMMs use TF32 tensor cores (10-bit mantissa products, fp32 sums): faster on
// Ampere and later, not bit-compatible with fp32. Off by default.
func (h *Handle) SetTF32(on bool) error {
	mode := C.int(0) // CUBLAS_DEFAULT_MATH
	if on {
		mode = 3 // CUBLAS_TF32_TENSOR_OP_MATH
	}
	return h.call("cublasSetMathMode", func() C.cublasStatus_t { return C.ssl4dp_cublas_math(h.h, mode) })
}

// Gemm queues C = α·op(A)·op(B) + β·C for row-major matrices: op(A) is m×k, op(B) k×n, C
// m×n; lda, ldb, ldc are the row strides (elements) of A, B, C as stored.
func (h *Handle) Gemm(transA, transB bool, m, n, k int, alpha float32, a driver.Ptr, lda int, b driver.Ptr, ldb int, beta float32, c driver.Ptr, ldc int) error {
	if m < 0 || n < 0 || k < 0 {
		return fmt.Errorf("cublas: Gemm of %d×%d×%d", m, n, k)
	}
	if m == 0 || n == 0 {
		return nil
	}
	// Row-major C (m×n) is column-major Cᵀ (n×m) = op(B)ᵀ (n×k) · op(A)ᵀ (k×m): swap the
	// operands and the sizes; each operand keeps its own transpose flag.
	tb, ta := C.int(0), C.int(0) // CUBLAS_OP_N
	if transB {
		tb = 1 // CUBLAS_OP_T
	}
	if transA {
		ta = 1
	}
	return h.call("cublasSgemm", func() C.cublasStatus_t {
		return C.ssl4dp_cublas_sgemm(h.h, tb, ta, C.int(n), C.int(m), C.int(k), C.float(alpha),
			C.ulonglong(b), C.int(ldb), C.ulonglong(a), C.int(lda), C.float(beta), C.ulonglong(c), C.int(ldc))
	})
}

// call runs a cuBLAS call with the context current on the same OS thread.
func (h *Handle) call(name string, f func() C.cublasStatus_t) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := h.c.Current(); err != nil {
		return err
	}
	if r := f(); r != 0 {
		return fmt.Errorf("cublas: %s: %s", name, status(r))
	}
	return nil
}

// status names a cublasStatus_t (cublas_api.h).
func status(r C.cublasStatus_t) string {
	names := map[C.cublasStatus_t]string{1: "CUBLAS_STATUS_NOT_INITIALIZED", 3: "CUBLAS_STATUS_ALLOC_FAILED",
		7: "CUBLAS_STATUS_INVALID_VALUE", 8: "CUBLAS_STATUS_ARCH_MISMATCH", 11: "CUBLAS_STATUS_MAPPING_ERROR",
		13: "CUBLAS_STATUS_EXECUTION_FAILED", 14: "CUBLAS_STATUS_INTERNAL_ERROR", 15: "CUBLAS_STATUS_NOT_SUPPORTED"}
	if s, ok := names[r]; ok {
		return s
	}
	return fmt.Sprintf("cuBLAS status %d", int(r))
}
