// l2norm.cu: y = x / max(‖x‖₂, eps) along one axis of x [outer, n, inner] (ops.L2Normalize:
// the contrastive heads' projection) and its gradient. One thread per fibre (outer·inner of
// them, any 1-D grid), which sums its n values in order in double as the CPU's fibreNorm:
// the same bits. Adjacent threads take adjacent inner offsets, so for inner > 1 the reads
// coalesce; for [N, D] embeddings (inner = 1) each thread walks a row.

static __device__ __forceinline__ double l2_fibre_norm(const float* x, int n, int inner) {
  double s = 0;
  for (int k = 0; k < n; k++) {
    double v = x[k * inner];
    s += v * v;
  }
  return __builtin_sqrt(s);
}

extern "C" __global__ void l2norm_fwd(const float* __restrict__ x, float* __restrict__ y, int outer,
                                      int n, int inner, float eps) {
  K_FOR(f, outer * inner) {
    int base = (f / inner) * n * inner + f % inner;
    double d = l2_fibre_norm(x + base, n, inner);
    if (d < (double)eps) d = eps;
    for (int k = 0; k < n; k++) y[base + k * inner] = (float)((double)x[base + k * inner] / d);
  }
}

// l2norm_bwd: dx = (g − y·⟨g, y⟩)/‖x‖, or g/eps where ‖x‖ ≤ eps (ops.l2normDiffDo).
extern "C" __global__ void l2norm_bwd(const float* __restrict__ x, const float* __restrict__ y,
                                      const float* __restrict__ g, float* __restrict__ dx, int outer,
                                      int n, int inner, float eps) {
  K_FOR(f, outer * inner) {
    int base = (f / inner) * n * inner + f % inner;
    double r = l2_fibre_norm(x + base, n, inner);
    if (r <= (double)eps) {
      for (int k = 0; k < n; k++) dx[base + k * inner] = (float)((double)g[base + k * inner] / (double)eps);
      continue;
    }
    double s = 0;
    for (int k = 0; k < n; k++) s += (double)g[base + k * inner] * (double)y[base + k * inner];
    for (int k = 0; k < n; k++) {
      int p = base + k * inner;
      dx[p] = (float)(((double)g[p] - (double)y[p] * s) / r);
    }
  }
}
