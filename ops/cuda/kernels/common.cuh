// common.cuh: device helpers shared by the kernel families, written once over the prelude's
// names (k_fma, k_rint, …) so that they compile for PTX and for the host emulator alike.
#pragma once

// k_exp and k_log use nothing but IEEE adds, multiplies, fused multiply-adds and divisions
// (no ex2/lg2.approx, whose bits the host cannot reproduce), so the emulator computes the
// device's bits exactly and both are within about 1 ulp of the true value.

// k_exp is e^x: Cody–Waite reduction x = j·ln2 + f with |f| ≤ ln2/2, e^f by its Taylor
// polynomial to degree 7 (truncation below 1e-8 relative), times 2^j. Below −87 it returns 0
// (float's normal range ends there); above 88 it saturates at e^88 (callers subtract the max
// first, so their arguments are ≤ 0).
static __device__ __forceinline__ float k_exp(float x) {
  if (x < -87.0f) return 0.0f;
  if (x > 88.0f) x = 88.0f;
  float j = k_rint(x * 1.44269504f);
  float f = k_fma(j, -0.693145751953125f, x);
  f = k_fma(j, -1.42860677e-06f, f);
  float p = 1.0f / 5040;
  p = k_fma(p, f, 1.0f / 720);
  p = k_fma(p, f, 1.0f / 120);
  p = k_fma(p, f, 1.0f / 24);
  p = k_fma(p, f, 1.0f / 6);
  p = k_fma(p, f, 0.5f);
  p = k_fma(p, f, 1.0f);
  p = k_fma(p, f, 1.0f);
  // 2^j as two factors so that j from −126 to 127 keeps both normal.
  int ji = (int)j;
  int j1 = ji / 2, j2 = ji - ji / 2;
  return p * k_int_as_float((j1 + 127) << 23) * k_int_as_float((j2 + 127) << 23);
}

// k_log is ln x: x = 2^e·m with m in [√½, √2), ln m = 2·atanh(t), t = (m − 1)/(m + 1), |t| ≤
// 0.172, by its series to t⁹ (truncation below 3e-9 relative). ln 1 is exactly 0.
static __device__ __forceinline__ float k_log(float x) {
  if (!(x > 0.0f)) return x == 0.0f ? -k_int_as_float(0x7f800000) : k_int_as_float(0x7fc00000);
  if (!(x < k_int_as_float(0x7f800000))) return x; // +Inf
  int e = 0;
  if (x < 1.17549435e-38f) { // subnormal: scale into the normal range
    x *= 8388608.0f;
    e = -23;
  }
  int b = k_float_as_int(x);
  e += ((b >> 23) & 0xff) - 127;
  float m = k_int_as_float((b & 0x7fffff) | 0x3f800000);
  if (m > 1.41421356f) {
    m *= 0.5f;
    e += 1;
  }
  float t = (m - 1.0f) / (m + 1.0f);
  float t2 = t * t;
  float p = 1.0f / 9;
  p = k_fma(p, t2, 1.0f / 7);
  p = k_fma(p, t2, 1.0f / 5);
  p = k_fma(p, t2, 1.0f / 3);
  float lm = 2.0f * t;
  lm = k_fma(lm * t2, p, lm);
  float fe = (float)e;
  return k_fma(fe, 0.693145751953125f, k_fma(fe, 1.42860677e-06f, lm));
}

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
