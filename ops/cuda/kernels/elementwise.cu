// elementwise.cu: one thread per element (grid-stride loops: any grid covers any n).
// Launch: block (256,1,1), grid (ceil(n/256),1,1) or fewer blocks.

// relu_fwd: y = max(x, 0) as Go's max: NaN stays NaN, −0 becomes +0 (ops.reluForward).
extern "C" __global__ void relu_fwd(const float* __restrict__ x, float* __restrict__ y, int n) {
  K_FOR(i, n) {
    float v = x[i];
    y[i] = (v > 0.0f || v != v) ? v : 0.0f;
  }
}

// relu_bwd: dx = dy where y > 0, else +0 (y NaN included): ops.reluBackward.
extern "C" __global__ void relu_bwd(const float* __restrict__ y, const float* __restrict__ dy,
                                    float* __restrict__ dx, int n) {
  K_FOR(i, n) { dx[i] = k_positive(y[i]) ? dy[i] : 0.0f; }
}

// add: y = a + b, same shapes.
extern "C" __global__ void add(const float* __restrict__ a, const float* __restrict__ b,
                               float* __restrict__ y, int n) {
  K_FOR(i, n) { y[i] = a[i] + b[i]; }
}

// mul: y = a·b, same shapes (the cosine losses' products of normalised embeddings).
extern "C" __global__ void mul(const float* __restrict__ a, const float* __restrict__ b,
                               float* __restrict__ y, int n) {
  K_FOR(i, n) { y[i] = a[i] * b[i]; }
}

// add_bias: y = x + bias[channel] over x [N, C, inner] (n = N·C·inner elements).
extern "C" __global__ void add_bias(const float* __restrict__ x, const float* __restrict__ bias,
                                    float* __restrict__ y, int n, int c, int inner) {
  K_FOR(i, n) { y[i] = x[i] + bias[(i / inner) % c]; }
}

// scale: y = a·x (y may be x).
extern "C" __global__ void scale(const float* x, float a, float* y, int n) {
  K_FOR(i, n) { y[i] = a * x[i]; }
}

// fill: y = v.
extern "C" __global__ void fill(float* __restrict__ y, float v, int n) {
  K_FOR(i, n) { y[i] = v; }
}

// axpby: y = y·a + x·b in float32, two roundings and no fused multiply-add (-ffp-contract=off):
// a momentum network's EMA, θ_target ← m·θ_target + (1 − m)·θ_online, as pretext.EMA.Update.
extern "C" __global__ void axpby(float* __restrict__ y, const float* __restrict__ x, float a, float b, int n) {
  K_FOR(i, n) { y[i] = y[i] * a + x[i] * b; }
}

// bn_merge: r1 = m·r1 + s1 − m·r0 in float32, left to right (pretext's bnMerge.after: two
// imports of one network, run on view 1 and view 2 from the same running statistics r0,
// folded into the statistics one module called twice would have).
extern "C" __global__ void bn_merge(float* __restrict__ r1, const float* __restrict__ s1,
                                    const float* __restrict__ r0, float m, int n) {
  K_FOR(i, n) { r1[i] = m * r1[i] + s1[i] - m * r0[i]; }
}
