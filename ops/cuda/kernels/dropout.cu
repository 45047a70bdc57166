// dropout.cu: inverted dropout with the CPU's mask, bit for bit (ops.Dropout). The CPU draws
// element i's keep flag as the (i+1)-th Float64 of Go's math/rand/v2 PCG seeded (seed, step ^
// 0x55d4a1d0), kept when ≥ p. PCG is a 128-bit LCG, so a thread jumps straight to element i's
// state (O(log i) multiplies) and applies the same DXSM output function: no sequential pass.

typedef unsigned __int128 dropout_u128;

static __device__ __forceinline__ dropout_u128 dropout_u128_of(unsigned long long hi, unsigned long long lo) {
  return ((dropout_u128)hi << 64) | lo;
}

// dropout_state is the PCG state after k steps from s: s·aᵏ + c·(aᵏ⁻¹ + … + 1) mod 2¹²⁸,
// by squaring (Brown, "Random number generation with arbitrary strides", 1994).
static __device__ __forceinline__ dropout_u128 dropout_state(dropout_u128 s, unsigned long long k) {
  dropout_u128 cur_mul = dropout_u128_of(2549297995355413924ULL, 4865540595714422341ULL);
  dropout_u128 cur_add = dropout_u128_of(6364136223846793005ULL, 1442695040888963407ULL);
  dropout_u128 acc_mul = 1, acc_add = 0;
  while (k > 0) {
    if (k & 1) {
      acc_mul *= cur_mul;
      acc_add = acc_add * cur_mul + cur_add;
    }
    cur_add = (cur_mul + 1) * cur_add;
    cur_mul *= cur_mul;
    k >>= 1;
  }
  return acc_mul * s + acc_add;
}

// dropout_mask: keep[i] = 1 where the (i+1)-th draw u (math/rand/v2's Float64: the DXSM
// output's low 53 bits over 2⁵³) is ≥ p, else 0. seed1, seed2 are NewPCG's arguments.
extern "C" __global__ void dropout_mask(int* __restrict__ keep, int n, unsigned long long seed1,
                                        unsigned long long seed2, double p) {
  dropout_u128 s0 = dropout_u128_of(seed1, seed2);
  K_FOR(i, n) {
    dropout_u128 st = dropout_state(s0, (unsigned long long)i + 1);
    unsigned long long hi = (unsigned long long)(st >> 64), lo = (unsigned long long)st;
    hi ^= hi >> 32;
    hi *= 0xda942042e4dd58b5ULL;
    hi ^= hi >> 48;
    hi *= (lo | 1);
    double u = (double)(hi << 11 >> 11) / 9007199254740992.0;
    keep[i] = u >= p;
  }
}

// dropout_apply: y = x·scale where keep, else 0; scale = float32(1/(1−p)). The gradient is
// the same map applied to dy.
extern "C" __global__ void dropout_apply(const float* __restrict__ x, const int* __restrict__ keep,
                                         float* __restrict__ y, int n, float scale) {
  K_FOR(i, n) { y[i] = keep[i] ? x[i] * scale : 0.0f; }
}
