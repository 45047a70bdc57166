// selftest_kernels.h: kernels that exist only to test the emulator itself (emu_test.go);
// each exercises one part of CUDA's model or one kind of bug the emulator must catch.
#pragma once

// emutest_coords writes every thread's (thread, block) coordinates, packed, at its linear id.
extern "C" __global__ void emutest_coords(int* out) {
  int tpb = blockDim.x * blockDim.y * blockDim.z;
  int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  int b = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  out[b * tpb + t] = (int)(threadIdx.x | threadIdx.y << 4 | threadIdx.z << 8 | blockIdx.x << 12 |
                           blockIdx.y << 16 | blockIdx.z << 20);
}

// emutest_reverse reverses each block's chunk through dynamic shared memory; racy = 1
// leaves out the barrier between the writes and the reads.
extern "C" __global__ void emutest_reverse(const float* in, float* out, int racy) {
  DYNAMIC_SHARED(float, s);
  int t = threadIdx.x, n = blockDim.x, o = blockIdx.x * n;
  s[t] = in[o + t];
  if (!racy) __syncthreads();
  out[o + t] = s[n - 1 - t];
}

// emutest_static_shared: a block sum through a static __shared__ array and k_block_sum.
extern "C" __global__ void emutest_block_sum(const float* in, float* out) {
  __shared__ double sh[1024];
  double s = k_block_sum(in[blockIdx.x * blockDim.x + threadIdx.x], sh);
  if (threadIdx.x == 0) out[blockIdx.x] = (float)s;
}

// emutest_early_return returns from some threads before a barrier (a real bug).
extern "C" __global__ void emutest_early_return(float* out) {
  if (threadIdx.x < 3) return;
  __syncthreads();
  out[threadIdx.x] = 1;
}

// emutest_divergent_barrier has the threads wait at two different barriers.
extern "C" __global__ void emutest_divergent_barrier(float* out) {
  if (threadIdx.x % 2) {
    __syncthreads();
  } else {
    __syncthreads();
  }
  out[threadIdx.x] = 1;
}

// emutest_oob writes y[n + off] from thread 0 (off < 0 writes before the start).
extern "C" __global__ void emutest_oob(float* y, int n, int off) {
  if (threadIdx.x == 0 && blockIdx.x == 0) y[n + off] = 1;
}

// emutest_shared_oob writes one float past the dynamic shared memory.
extern "C" __global__ void emutest_shared_oob(int n) {
  DYNAMIC_SHARED(float, s);
  s[threadIdx.x] = 0;
  if (threadIdx.x == 0) s[n] = 1;
}

// emutest_atomic counts the grid's threads with atomicAdd and keeps the largest id.
extern "C" __global__ void emutest_atomic(int* count, int* maxid) {
  atomicAdd(count, 1);
  atomicMax(maxid, (int)(blockIdx.x * blockDim.x + threadIdx.x));
}

// emutest_args echoes its scalars.
extern "C" __global__ void emutest_args(float* out, const int* in, int n, float x) {
  if (threadIdx.x == 0) {
    out[0] = (float)n;
    out[1] = x;
    out[2] = (float)in[0];
  }
}

// emutest_math evaluates common.cuh's k_exp and k_log (the same code as on the device).
extern "C" __global__ void emutest_math(const float* x, float* e, float* l, int n) {
  K_FOR(i, n) {
    e[i] = k_exp(x[i]);
    l[i] = k_log(x[i]);
  }
}

// emutest_shared_leftover: block 0 writes static shared memory; every block then reads it
// without writing (a bug): later blocks must see NaN, not block 0's values.
extern "C" __global__ void emutest_shared_leftover(float* out) {
  __shared__ float s[32];
  if (blockIdx.x == 0) s[threadIdx.x] = 1.0f;
  __syncthreads();
  out[blockIdx.x * blockDim.x + threadIdx.x] = s[threadIdx.x];
}
