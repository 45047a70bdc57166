// pointwise.cu: ops.Pointwise (Erf, Gelu, Sqrt, Pow by a constant, HardSigmoid, HardSwish)
// forward and gradient, one thread per element. Like the CPU (ops.pointwiseValue and
// ops.pointwiseDeriv) every element is computed in double from the same formula and rounded
// to float once, so the results are the CPU's bits except where the double values differ in
// the last bits and straddle a float rounding boundary (≤ 1 ulp; the parity test pins it).
// exp, log and erf are IEEE-only polynomials and fractions below (no .approx), so the
// emulator reproduces the device's bits.
// Launch: block (256,1,1), grid (ceil(n/256),1,1) or fewer blocks. kind is ops.PointwiseKind:
// 1 Erf, 2 Gelu, 3 Sqrt, 4 Pow (exponent alpha), 5 HardSigmoid (slope alpha, offset beta),
// 6 HardSwish; any other kind writes NaN.

// k_dexp is e^x in double: x = j·ln2 + f, |f| ≤ ln2/2 (ln2 in two parts, fdlibm's, so j·hi
// is exact), e^f by Taylor to degree 13 (truncation below 5e-18 relative), times 2^j as two
// factors. Below −745.2 it is 0, above 709.78 +Inf.
static __device__ __forceinline__ double k_dexp(double x) {
  if (x != x) return x;
  if (x < -745.2) return 0.0;
  if (x > 709.78) return k_longlong_as_double(0x7ff0000000000000LL);
  double j = k_drint(x * 1.4426950408889634);
  double f = k_dfma(j, -6.93147180369123816490e-01, x);
  f = k_dfma(j, -1.90821492927058770002e-10, f);
  double p = 1.0 / 6227020800.0; // 1/13!
  p = k_dfma(p, f, 1.0 / 479001600.0);
  p = k_dfma(p, f, 1.0 / 39916800.0);
  p = k_dfma(p, f, 1.0 / 3628800.0);
  p = k_dfma(p, f, 1.0 / 362880.0);
  p = k_dfma(p, f, 1.0 / 40320.0);
  p = k_dfma(p, f, 1.0 / 5040.0);
  p = k_dfma(p, f, 1.0 / 720.0);
  p = k_dfma(p, f, 1.0 / 120.0);
  p = k_dfma(p, f, 1.0 / 24.0);
  p = k_dfma(p, f, 1.0 / 6.0);
  p = k_dfma(p, f, 0.5);
  p = k_dfma(p, f, 1.0);
  p = k_dfma(p, f, 1.0);
  long long ji = (long long)j;
  long long j1 = ji / 2, j2 = ji - ji / 2;
  return p * k_longlong_as_double((j1 + 1023) << 52) * k_longlong_as_double((j2 + 1023) << 52);
}

// k_dlog is ln x in double for x > 0: x = 2^e·m, m in [√½, √2), ln m = 2·atanh(t), t = (m −
// 1)/(m + 1), |t| ≤ 0.172, by its series to t²¹ (truncation below 1e-17 relative).
static __device__ __forceinline__ double k_dlog(double x) {
  if (x != x) return x;
  if (!(x > 0.0)) return x == 0.0 ? -k_longlong_as_double(0x7ff0000000000000LL) : k_longlong_as_double(0x7ff8000000000000LL);
  if (!(x < k_longlong_as_double(0x7ff0000000000000LL))) return x;
  long long e = 0;
  if (x < 2.2250738585072014e-308) { // subnormal: scale by 2^54
    x *= 18014398509481984.0;
    e = -54;
  }
  long long b = k_double_as_longlong(x);
  e += ((b >> 52) & 0x7ff) - 1023;
  double m = k_longlong_as_double((b & 0xfffffffffffffLL) | 0x3ff0000000000000LL);
  if (m > 1.4142135623730951) {
    m *= 0.5;
    e += 1;
  }
  double t = (m - 1.0) / (m + 1.0);
  double t2 = t * t;
  double p = 1.0 / 21;
  p = k_dfma(p, t2, 1.0 / 19);
  p = k_dfma(p, t2, 1.0 / 17);
  p = k_dfma(p, t2, 1.0 / 15);
  p = k_dfma(p, t2, 1.0 / 13);
  p = k_dfma(p, t2, 1.0 / 11);
  p = k_dfma(p, t2, 1.0 / 9);
  p = k_dfma(p, t2, 1.0 / 7);
  p = k_dfma(p, t2, 1.0 / 5);
  p = k_dfma(p, t2, 1.0 / 3);
  double lm = 2.0 * t;
  lm = k_dfma(lm * t2, p, lm);
  double fe = (double)e;
  return k_dfma(fe, 6.93147180369123816490e-01, k_dfma(fe, 1.90821492927058770002e-10, lm));
}

// k_derf is erf x in double, to about 6e-15 absolute (far below a float's ulp): below 2.5 its
// Maclaurin series to x⁸¹ (fixed 40 terms; cancellation costs ~1e-14 at 2.5), from 2.5 to 6
// 1 − erfc by erfc's continued fraction e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3⁄2/(x + …)))) at
// depth 40 (converged to 5e-16 relative), from 6 on ±1 (erfc 6 < 2e-17: 1 in double too).
static __device__ __forceinline__ double k_derf(double x) {
  if (x != x || x == 0.0) return x; // ±0 keeps its sign
  double a = x < 0 ? -x : x;
  double r;
  if (a < 2.5) {
    double x2 = x * x, t = x, s = x;
    for (int n = 1; n <= 40; n++) {
      t *= -x2 / n;
      s += t / (2 * n + 1);
    }
    return 1.1283791670955126 * s;
  } else if (a < 6.0) {
    double f = a;
    for (int k = 40; k >= 1; k--) f = a + (0.5 * k) / f;
    r = 1.0 - k_dexp(-a * a) * 0.5641895835477563 / f;
  } else {
    r = 1.0;
  }
  return x < 0 ? -r : r;
}

// k_dpow is x^a with Go's math.Pow special cases for what a network meets: x^0 = 1^a = 1,
// NaN in, NaN out; ±0 and ±Inf by the exponent's sign and parity; a negative base with a
// non-integer exponent is NaN; otherwise e^{a·ln|x|}, negated for a negative base and an odd
// exponent.
static __device__ __forceinline__ double k_dpow(double x, double a) {
  if (a == 0.0 || x == 1.0) return 1.0;
  if (x != x || a != a) return x + a;
  double inf = k_longlong_as_double(0x7ff0000000000000LL);
  bool isInt = k_drint(a) == a;
  bool odd = isInt && k_drint(a * 0.5) != a * 0.5;
  if (x == 0.0) {
    if (a > 0) return odd ? x : 0.0;
    return odd ? (k_double_as_longlong(x) < 0 ? -inf : inf) : inf;
  }
  if (x == inf || x == -inf) {
    bool neg = x < 0 && odd;
    double r = a > 0 ? inf : 0.0;
    return neg ? -r : r;
  }
  if (x < 0) {
    if (!isInt) return k_longlong_as_double(0x7ff8000000000000LL);
    double r = k_dexp(a * k_dlog(-x));
    return odd ? -r : r;
  }
  return k_dexp(a * k_dlog(x));
}

// k_unit is Go's min(max(z, 0), 1): NaN stays NaN, −0 becomes +0.
static __device__ __forceinline__ double k_unit(double z) {
  if (z != z) return z;
  double r = z > 0.0 ? z : 0.0;
  return r < 1.0 ? r : 1.0;
}

static __device__ __forceinline__ double k_pointwise_value(int kind, double alpha, double beta, double x) {
  switch (kind) {
  case 1: return k_derf(x);
  case 2: return 0.5 * x * (1 + k_derf(x / 1.4142135623730951));
  case 3: return k_dsqrt(x);
  case 4: return alpha == 2 ? x * x : k_dpow(x, alpha);
  case 5: return k_unit(alpha * x + beta);
  case 6: return x * k_unit(x / 6 + 0.5);
  }
  return k_longlong_as_double(0x7ff8000000000000LL);
}

// k_pointwise_deriv is f′(x), the CPU's formula term for term (HardSigmoid flat at its
// kinks, HardSwish's slope on the open interval (−3, 3)).
static __device__ __forceinline__ double k_pointwise_deriv(int kind, double alpha, double beta, double x) {
  switch (kind) {
  case 1: return 1.1283791670955126 * k_dexp(-x * x);
  case 2:
    return 0.5 * (1 + k_derf(x / 1.4142135623730951)) + x * k_dexp(-0.5 * x * x) / 2.5066282746310002;
  case 3: return 0.5 / k_dsqrt(x);
  case 4: return alpha == 2 ? 2 * x : alpha * k_dpow(x, alpha - 1);
  case 5: {
    double z = alpha * x + beta;
    return (z > 0 && z < 1) ? alpha : 0.0;
  }
  case 6:
    if (x <= -3) return 0.0;
    if (x >= 3) return 1.0;
    return x / 3 + 0.5;
  }
  return k_longlong_as_double(0x7ff8000000000000LL);
}

// pointwise_fwd: y = f(x).
extern "C" __global__ void pointwise_fwd(const float* __restrict__ x, float* __restrict__ y, int n,
                                         int kind, double alpha, double beta) {
  K_FOR(i, n) { y[i] = (float)k_pointwise_value(kind, alpha, beta, (double)x[i]); }
}

// pointwise_bwd: dx = dy·f′(x), the product in double.
extern "C" __global__ void pointwise_bwd(const float* __restrict__ x, const float* __restrict__ dy,
                                         float* __restrict__ dx, int n, int kind, double alpha,
                                         double beta) {
  K_FOR(i, n) { dx[i] = (float)((double)dy[i] * k_pointwise_deriv(kind, alpha, beta, (double)x[i])); }
}
