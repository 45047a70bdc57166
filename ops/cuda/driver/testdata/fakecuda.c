// A stand-in for libcuda.so.1, built by the tests with gcc: the driver API entry points the
// loader resolves, answering as a driver with FAKE_VERSION, FAKE_DEVICES GPUs and cuInit's
// result FAKE_INIT would. Build with -DNO_LAUNCH to leave cuLaunchKernel out (a library
// that is not a whole driver).
#include <string.h>
#include <stdio.h>
#include <stddef.h>

typedef int CUresult;
static const char *names[] = {"NVIDIA Fake A100", "NVIDIA Fake H200"};

CUresult cuInit(unsigned int f) { (void)f; return FAKE_INIT; }
CUresult cuDriverGetVersion(int *v) { *v = FAKE_VERSION; return 0; }
CUresult cuDeviceGetCount(int *n) { *n = FAKE_DEVICES; return 0; }
CUresult cuDeviceGet(int *d, int i) { if (i >= FAKE_DEVICES) return 101; *d = i; return 0; }
CUresult cuDeviceGetName(char *s, int n, int d) { strncpy(s, names[d % 2], n); return 0; }
CUresult cuDeviceTotalMem_v2(size_t *b, int d) { *b = (size_t)(d == 0 ? 40 : 141) << 30; return 0; }
CUresult cuDeviceGetAttribute(int *v, int a, int d) { *v = a == 75 ? (d == 0 ? 8 : 9) : 0; return a == 75 || a == 76 ? 0 : 1; }
CUresult cuGetErrorName(CUresult r, const char **s) { *s = r == 100 ? "CUDA_ERROR_NO_DEVICE" : r == 35 ? "CUDA_ERROR_INSUFFICIENT_DRIVER" : "CUDA_ERROR_UNKNOWN"; return 0; }
CUresult cuGetErrorString(CUresult r, const char **s) { *s = r == 100 ? "no CUDA-capable device is detected" : "something failed"; return 0; }
// Memory is host memory; the stream runs everything at once; a module is its PTX text, and
// a function exists when the text has ".entry NAME". cuLaunchKernel runs two kernels on the
// host, so the tests see the arguments arrive: axpy(float *y, const float *x, float a,
// int n), y[i] += a*x[i] for i < n over the launch's threads; and trap, which fails as a
// kernel's fault does (CUDA_ERROR_LAUNCH_FAILED).
#include <stdlib.h>
typedef unsigned long long CUdeviceptr;
static int current;
CUresult cuDevicePrimaryCtxRetain(void **ctx, int d) { *ctx = (void *)(size_t)(d + 1); return 0; }
CUresult cuDevicePrimaryCtxRelease_v2(int d) { (void)d; return 0; }
CUresult cuCtxSetCurrent(void *ctx) { current = ctx != NULL; return 0; }
CUresult cuCtxSynchronize(void) { return 0; }
CUresult cuMemAlloc_v2(CUdeviceptr *p, size_t n) { if (!current) return 201; *p = (CUdeviceptr)malloc(n); return *p ? 0 : 2; }
CUresult cuMemFree_v2(CUdeviceptr p) { free((void *)p); return 0; }
CUresult cuMemAllocHost_v2(void **p, size_t n) { *p = malloc(n); return *p ? 0 : 2; }
CUresult cuMemFreeHost(void *p) { free(p); return 0; }
CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr d, const void *h, size_t n, void *s) { (void)s; memcpy((void *)d, h, n); return 0; }
CUresult cuMemcpyDtoHAsync_v2(void *h, CUdeviceptr d, size_t n, void *s) { (void)s; memcpy(h, (void *)d, n); return 0; }
CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, void *s) { (void)s; memset((void *)d, v, n); return 0; }
CUresult cuStreamCreate(void **s, unsigned int f) { (void)f; *s = (void *)1; return 0; }
CUresult cuStreamDestroy_v2(void *s) { (void)s; return 0; }
CUresult cuStreamSynchronize(void *s) { (void)s; return 0; }
CUresult cuModuleLoadData(void **m, const void *img) { *m = strdup((const char *)img); return strstr(img, ".version") ? 0 : 218; } // CUDA_ERROR_INVALID_PTX
CUresult cuModuleUnload(void *m) { free(m); return 0; }
CUresult cuModuleGetFunction(void **f, void *m, const char *name) {
	char want[256];
	snprintf(want, sizeof want, ".entry %s(", name);
	if (!strstr((const char *)m, want)) return 500; // CUDA_ERROR_NOT_FOUND
	*f = strdup(name);
	return 0;
}
#ifndef NO_LAUNCH
CUresult cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
	unsigned shared, void *s, void **params, void **extra) {
	(void)s; (void)shared; (void)extra;
	if (strcmp((const char *)f, "trap") == 0) return 719;
	float *y = *(float **)params[0];
	const float *x = *(const float **)params[1];
	float a = *(float *)params[2];
	int n = *(int *)params[3];
	long threads = (long)gx * gy * gz * bx * by * bz;
	for (long i = 0; i < threads && i < n; i++) y[i] += a * x[i];
	return 0;
}
#endif
