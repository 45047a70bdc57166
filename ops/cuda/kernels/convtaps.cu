// convtaps.cu: the data movement around a convolution's cuBLAS GEMMs, for the batched layout
// ([M, N·OH·OW] products) and for the convolution by kernel taps (ops/op_conv_taps.go: per
// tap t, the [M, C] weight slice W_t times the inputs it reads over a rectangle of the output
// plane, rows [hlo, hhi) by columns [wlo, whi), which read input row oh·SH + offH and column
// ow·SW + offW). One launch per tap; within one, every destination element is written or
// added once, so there are no races and the CPU's bits. Any 1-D grid.

// tap_weights: wt[mi, ci] = w[mi, ci, t] (w is [M, C, KH·KW], kk = KH·KW).
extern "C" __global__ void tap_weights(const float* __restrict__ w, float* __restrict__ wt, int m, int c,
                                       int kk, int t) {
  K_FOR(e, m * c) { wt[e] = w[e * kk + t]; }
}

// tap_weight_grad: dw[mi, ci, t] = dwt[mi, ci] (the other taps' entries untouched).
extern "C" __global__ void tap_weight_grad(const float* __restrict__ dwt, float* __restrict__ dw, int m,
                                           int c, int kk, int t) {
  K_FOR(e, m * c) { dw[e * kk + t] = dwt[e]; }
}

#define TAP_RECT int hlo, int hhi, int wlo, int whi

// tap_gather_inputs: xt [C, N·S] (S = the rectangle's size, row-major) from x [N, C, H, W].
extern "C" __global__ void tap_gather_inputs(const float* __restrict__ x, float* __restrict__ xt, int n,
                                             int c, int H, int W, int SH, int SW, TAP_RECT, int offH,
                                             int offW) {
  int rw = whi - wlo, s = (hhi - hlo) * rw;
  K_FOR(e, c * n * s) {
    int k = e % s, ni = (e / s) % n, ci = e / (s * n);
    int oh = hlo + k / rw, ow = wlo + k % rw;
    xt[e] = x[((ni * c + ci) * H + oh * SH + offH) * W + ow * SW + offW];
  }
}

// tap_gather_grads: dyt [M, N·S] from dy [N, M, OH, OW] over the rectangle.
extern "C" __global__ void tap_gather_grads(const float* __restrict__ dy, float* __restrict__ dyt, int n,
                                            int m, int OH, int OW, TAP_RECT) {
  int rw = whi - wlo, s = (hhi - hlo) * rw;
  K_FOR(e, m * n * s) {
    int k = e % s, ni = (e / s) % n, mi = e / (s * n);
    dyt[e] = dy[((ni * m + mi) * OH + hlo + k / rw) * OW + wlo + k % rw];
  }
}

// tap_add_outputs: out [M, N·OH·OW] += z [M, N·S] over the rectangle.
extern "C" __global__ void tap_add_outputs(const float* __restrict__ z, float* __restrict__ out, int n,
                                           int m, int OH, int OW, TAP_RECT) {
  int rw = whi - wlo, s = (hhi - hlo) * rw;
  K_FOR(e, m * n * s) {
    int k = e % s, p = e / s; // p = mi·n + ni
    out[(p * OH + hlo + k / rw) * OW + wlo + k % rw] += z[e];
  }
}

// tap_add_input_grads: dx [N, C, H, W] += dg [C, N·S] at the inputs the tap read (distinct
// for distinct positions: one addition per element and launch).
extern "C" __global__ void tap_add_input_grads(const float* __restrict__ dg, float* __restrict__ dx, int n,
                                               int c, int H, int W, int SH, int SW, TAP_RECT, int offH,
                                               int offW) {
  int rw = whi - wlo, s = (hhi - hlo) * rw;
  K_FOR(e, c * n * s) {
    int k = e % s, ni = (e / s) % n, ci = e / (s * n);
    int oh = hlo + k / rw, ow = wlo + k % rw;
    dx[((ni * c + ci) * H + oh * SH + offH) * W + ow * SW + offW] += dg[e];
  }
}

// conv_permute_batched: y [N, M, OHW] = tmp [M, N·OHW] (+ b[mi] when has_bias), as
// ops.permuteBatched.
extern "C" __global__ void conv_permute_batched(const float* __restrict__ tmp, const float* __restrict__ b,
                                                float* __restrict__ y, int n, int m, int ohw, int has_bias) {
  K_FOR(e, n * m * ohw) {
    int j = e % ohw, mi = (e / ohw) % m, ni = e / (ohw * m);
    float v = tmp[(mi * n + ni) * ohw + j];
    y[e] = has_bias ? v + b[mi] : v;
  }
}

// conv_batch_grads: dyb [M, N·OHW] = dy [N, M, OHW], the inverse permutation (the batched
// layout's gradients for its GEMMs).
extern "C" __global__ void conv_batch_grads(const float* __restrict__ dy, float* __restrict__ dyb, int n,
                                            int m, int ohw) {
  K_FOR(e, m * n * ohw) {
    int j = e % ohw, ni = (e / ohw) % n, mi = e / (ohw * n);
    dyb[e] = dy[(ni * m + mi) * ohw + j];
  }
}
