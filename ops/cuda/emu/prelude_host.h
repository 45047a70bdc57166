// prelude_host.h: the host twin of ops/cuda/kernels/prelude_device.h. It lets the kernel
// sources compile as C++ for the CPU, where emu.cc runs them under CUDA's execution model:
// threadIdx and friends read the running fiber's coordinates, __shared__ variables are one
// copy, NaN-filled before each block (blocks run one after another), and __syncthreads() parks the fiber until
// every thread of the block has reached it.
#pragma once
// No fused multiply-adds (the PTX is compiled with -ffp-contract=off too), whatever
// CGO_CXXFLAGS say: the kernels' roundings are the CPU ops'.
#pragma GCC optimize("fp-contract=off")
#include <math.h>
#include <stdint.h>
#include <string.h>

struct uint3 {
  unsigned x, y, z;
};

namespace emu {
extern uint3 block_idx, block_dim, grid_dim;
const uint3& thread_idx();
void sync_threads(int line);
void* dynamic_shared();
} // namespace emu

#define threadIdx (emu::thread_idx())
#define blockIdx (emu::block_idx)
#define blockDim (emu::block_dim)
#define gridDim (emu::grid_dim)

#define __global__
#define __device__
#define __forceinline__ inline
// Static __shared__ variables live in their own section, which emu.cc fills with NaN bytes
// before every block, so a kernel that reads shared memory it has not written (or that a
// previous block left behind) sees NaN, as it would see garbage on a GPU.
#define __shared__ static __attribute__((section("emu_shared"), used))
#define __restrict__ __restrict
#define DYNAMIC_SHARED(T, name) T* name = (T*)emu::dynamic_shared()
#define __syncthreads() emu::sync_threads(__LINE__)

static inline float k_sqrt(float x) { return sqrtf(x); }
static inline float k_fmax(float a, float b) { return fmaxf(a, b); }
static inline float k_fma(float a, float b, float c) { return fmaf(a, b, c); }
static inline float k_floor(float x) { return floorf(x); }
static inline float k_rint(float x) { return rintf(x); }
static inline float k_int_as_float(int i) {
  float f;
  memcpy(&f, &i, 4);
  return f;
}
static inline int k_float_as_int(float f) {
  int i;
  memcpy(&i, &f, 4);
  return i;
}
static inline double k_dsqrt(double x) { return sqrt(x); }
static inline double k_dfma(double a, double b, double c) { return fma(a, b, c); }
static inline double k_drint(double x) { return rint(x); }
static inline double k_longlong_as_double(long long i) {
  double f;
  memcpy(&f, &i, 8);
  return f;
}
static inline long long k_double_as_longlong(double f) {
  long long i;
  memcpy(&i, &f, 8);
  return i;
}

// Atomics: the block's fibers share one OS thread and switch only at __syncthreads, so a
// plain read-modify-write is atomic here.
static inline float atomicAdd(float* p, float v) {
  float o = *p;
  *p = o + v;
  return o;
}
static inline int atomicAdd(int* p, int v) {
  int o = *p;
  *p = o + v;
  return o;
}
static inline int atomicMax(int* p, int v) {
  int o = *p;
  if (v > o) *p = v;
  return o;
}
static inline int atomicCAS(int* p, int cmp, int v) {
  int o = *p;
  if (o == cmp) *p = v;
  return o;
}

#include "../kernels/common.cuh"
#include "registry.h"
