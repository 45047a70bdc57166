// prelude_device.h: what the kernel sources need from CUDA when clang-15 compiles them to
// PTX with no CUDA toolkit (scripts/ptx.sh passes it with -include). Its twin for the host
// emulator is ops/cuda/emu/prelude_host.h; the two define the same names, so a kernel
// source compiles unchanged for both. Only what the kernels use is here.
#pragma once
#include <__clang_cuda_builtin_vars.h> // threadIdx, blockIdx, blockDim, gridDim

#define __global__ __attribute__((global))
#define __device__ __attribute__((device))
#define __shared__ __attribute__((shared))
#define __forceinline__ __attribute__((always_inline)) inline
#define __restrict__ __restrict

// DYNAMIC_SHARED declares the block's dynamic shared memory (sized at launch) as an array
// of T: CUDA's `extern __shared__ T name[]`, which has no spelling in host C++.
#define DYNAMIC_SHARED(T, name) extern __shared__ T name[]

// __syncthreads is a clang builtin for NVPTX (bar.sync 0).

// Math. -nocudalib means no libdevice: expf or logf would stay unresolved calls in the PTX
// (the tests reject any .extern .func), so the kernels use these, each one PTX instruction
// with an IEEE result (common.cuh builds k_exp and k_log from them).
static __device__ __forceinline__ float k_sqrt(float x) { return __builtin_sqrtf(x); } // sqrt.rn
static __device__ __forceinline__ float k_fmax(float a, float b) { return __builtin_fmaxf(a, b); }
static __device__ __forceinline__ float k_fma(float a, float b, float c) { return __builtin_fmaf(a, b, c); }
static __device__ __forceinline__ float k_floor(float x) { return __builtin_floorf(x); }
static __device__ __forceinline__ float k_rint(float x) { return __builtin_rintf(x); }
static __device__ __forceinline__ float k_int_as_float(int i) { return __builtin_bit_cast(float, i); }
static __device__ __forceinline__ int k_float_as_int(float f) { return __builtin_bit_cast(int, f); }
// Doubles (pointwise.cu computes in double like the CPU's ops.Pointwise): IEEE results only.
static __device__ __forceinline__ double k_dsqrt(double x) { return __builtin_sqrt(x); } // sqrt.rn.f64
static __device__ __forceinline__ double k_dfma(double a, double b, double c) { return __builtin_fma(a, b, c); }
static __device__ __forceinline__ double k_drint(double x) { return __builtin_rint(x); }
static __device__ __forceinline__ double k_longlong_as_double(long long i) { return __builtin_bit_cast(double, i); }
static __device__ __forceinline__ long long k_double_as_longlong(double f) { return __builtin_bit_cast(long long, f); }

// Atomics (only the kernels named *_atomic use them; the default ones are deterministic).
static __device__ __forceinline__ float atomicAdd(float* p, float v) { return __nvvm_atom_add_gen_f(p, v); }
static __device__ __forceinline__ int atomicAdd(int* p, int v) { return __nvvm_atom_add_gen_i(p, v); }
static __device__ __forceinline__ int atomicMax(int* p, int v) { return __nvvm_atom_max_gen_i(p, v); }
static __device__ __forceinline__ int atomicCAS(int* p, int cmp, int v) { return __nvvm_atom_cas_gen_i(p, cmp, v); }

#include "common.cuh"
