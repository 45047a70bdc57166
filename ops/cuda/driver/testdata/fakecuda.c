// A stand-in for libcuda.so.1, built by the tests with gcc: the driver API entry points the
// loader resolves, answering as a driver with FAKE_VERSION, FAKE_DEVICES GPUs and cuInit's
// result FAKE_INIT would. Build with -DNO_LAUNCH to leave cuLaunchKernel out (a library
// that is not a whole driver).
#include <string.h>
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
#define STUB(name) CUresult name(void) { return 0; }
STUB(cuDevicePrimaryCtxRetain) STUB(cuDevicePrimaryCtxRelease_v2) STUB(cuCtxSetCurrent) STUB(cuCtxSynchronize)
STUB(cuMemAlloc_v2) STUB(cuMemFree_v2) STUB(cuMemAllocHost_v2) STUB(cuMemFreeHost) STUB(cuMemcpyHtoDAsync_v2)
STUB(cuMemcpyDtoHAsync_v2) STUB(cuMemsetD8Async) STUB(cuStreamCreate) STUB(cuStreamDestroy_v2)
STUB(cuStreamSynchronize) STUB(cuModuleLoadData) STUB(cuModuleUnload) STUB(cuModuleGetFunction)
#ifndef NO_LAUNCH
STUB(cuLaunchKernel)
#endif
