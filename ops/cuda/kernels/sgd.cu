// sgd.cu: the optimizer's update, element by element exactly as train/optim (torch 1.13's
// _single_tensor_sgd with the float32 roundings in the same places; scripts/ptx.sh compiles
// with -ffp-contract=off so no multiply-add is fused): with d = g + wd·p when wd ≠ 0,
//   v = d (first step) or v·μ + d;  d = d + μ·v (Nesterov) or v;  p = p − lr·d.
// mu = 0 leaves v alone (it may be empty). Any 1-D grid.
extern "C" __global__ void sgd_update(float* __restrict__ p, const float* __restrict__ g,
                                      float* __restrict__ v, int n, float lr, float wd, float mu,
                                      int first, int nesterov) {
  K_FOR(j, n) {
    float d = g[j];
    if (wd != 0.0f) d = d + wd * p[j];
    if (mu != 0.0f) {
      float vj = first ? d : v[j] * mu + d;
      v[j] = vj;
      d = nesterov ? d + mu * vj : vj;
    }
    p[j] = p[j] - lr * d;
  }
}
