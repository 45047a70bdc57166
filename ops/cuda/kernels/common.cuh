// common.cuh: device helpers shared by the kernel families, written once over the prelude's
// names (k_exp2_approx, …) so that they compile for PTX and for the host emulator alike.
#pragma once

// k_exp is e^x to about 2 ulp: Cody–Waite reduction x = j·ln2 + f with |f| ≤ ln2/2, then
// 2^(f·log2 e) by ex2.approx and the exponent j put in directly. Below −87 it returns 0
// (float's normal range ends there; flush-to-zero is what the softmax wants anyway).
static __device__ __forceinline__ float k_exp(float x) {
  if (x < -87.0f) return 0.0f;
  if (x > 88.0f) x = 88.0f; // e^88 overflows float anyway below: keeps j in range
  float j = k_rint(x * 1.44269504f);
  float f = k_fma(j, -0.693145751953125f, x);
  f = k_fma(j, -1.42860677e-06f, f);
  float p = k_exp2_approx(f * 1.44269504f);
  // 2^j as two factors so that j up to 127 and down to −126 both stay normal.
  int ji = (int)j;
  int j1 = ji / 2, j2 = ji - ji / 2;
  return p * k_int_as_float((j1 + 127) << 23) * k_int_as_float((j2 + 127) << 23);
}

// k_log is ln x (x > 0) from lg2.approx: absolute error about 2^-22 · ln 2.
static __device__ __forceinline__ float k_log(float x) { return k_log2_approx(x) * 0.693147181f; }

// k_positive is 1 when 0 < v ≤ +Inf and 0 otherwise (zeros, negatives, NaN): the ReLU's
// gradient mask, the same predicate as ops.positiveMask32.
static __device__ __forceinline__ bool k_positive(float v) { return v > 0.0f; }

// Block-wide sum of doubles in a fixed order: each thread's partial goes to sh[tid], then a
// tree folds the upper half onto the lower (any blockDim.x: the first fold starts at the
// power of two below it); every thread gets the total. The order depends only on blockDim,
// so the bits never depend on scheduling. sh holds blockDim.x doubles; every thread of a
// 1-D block must call it (it has barriers).
static __device__ __forceinline__ double k_block_sum(double v, double* sh) {
  unsigned t = threadIdx.x, n = blockDim.x;
  unsigned p = 1;
  while (p < n) p *= 2;
  sh[t] = v;
  __syncthreads();
  for (unsigned s = p / 2; s > 0; s /= 2) {
    if (t < s && t + s < n) sh[t] += sh[t + s];
    __syncthreads();
  }
  double r = sh[0];
  __syncthreads(); // sh may be reused at once
  return r;
}

// Grid-stride loop over [0, n): every thread of every block takes i, i + stride, ….
#define K_FOR(i, n) \
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)
