// softmax.cu: Softmax and LogSoftmax along one axis of x [outer, n, inner] (ops.Softmax,
// ops.LogSoftmax) and their gradients. One thread per fibre (outer·inner, any 1-D grid), sums
// in double as the CPU's softmaxFibre; exp and log are the prelude's (about 2 ulp), so the
// results agree with the CPU's to ~1e-6, not bit for bit.

extern "C" __global__ void softmax_fwd(const float* __restrict__ x, float* __restrict__ y, int outer, int n,
                                       int inner, int log) {
  K_FOR(f, outer * inner) {
    int base = (f / inner) * n * inner + f % inner;
    const float* xf = x + base;
    float* yf = y + base;
    float m = xf[0];
    for (int k = 1; k < n; k++) m = k_fmax(m, xf[k * inner]);
    double s = 0;
    for (int k = 0; k < n; k++) s += k_exp(xf[k * inner] - m);
    if (log) {
      double lse = (double)m + (double)k_log((float)s);
      for (int k = 0; k < n; k++) yf[k * inner] = (float)((double)xf[k * inner] - lse);
    } else {
      for (int k = 0; k < n; k++) yf[k * inner] = (float)((double)k_exp(xf[k * inner] - m) / s);
    }
  }
}

// softmax_bwd: from the forward output y and dL/dy = g: softmax dx = y ⊙ (g − Σ g⊙y),
// log-softmax dx = g − exp(y)·Σ g.
extern "C" __global__ void softmax_bwd(const float* __restrict__ y, const float* __restrict__ g,
                                       float* __restrict__ dx, int outer, int n, int inner, int log) {
  K_FOR(f, outer * inner) {
    int base = (f / inner) * n * inner + f % inner;
    const float* yf = y + base;
    const float* gf = g + base;
    float* df = dx + base;
    double s = 0;
    if (log) {
      for (int k = 0; k < n; k++) s += gf[k * inner];
      for (int k = 0; k < n; k++) df[k * inner] = (float)((double)gf[k * inner] - (double)k_exp(yf[k * inner]) * s);
    } else {
      for (int k = 0; k < n; k++) s += (double)gf[k * inner] * (double)yf[k * inner];
      for (int k = 0; k < n; k++) df[k * inner] = (float)((double)yf[k * inner] * ((double)gf[k * inner] - s));
    }
  }
}
