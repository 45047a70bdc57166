// dwconv.cu: depthwise convolution (Groups = C; M = C·mult output channels, channel m reads
// input channel m / mult) of x [N, C, H, W] with w [M, 1, KH, KW] (ops/op_conv_depthwise.go).
// Direct loops, each a gather in the CPU's order, so exact and free of atomics; any 1-D grid.
// Geometry as ops.geom2D. The bias gradient is batchnorm.cu's channel_sum.

#define DW_GEOM                                                                                  \
  int n, int c, int m, int H, int W, int KH, int KW, int SH, int SW, int DH, int DW, int PT, int PL, \
      int OH, int OW

// dwconv_fwd: y = bias (has_bias = 1; b may be empty otherwise) + Σ over the taps in order
// of w·x, taps over padding skipped.
extern "C" __global__ void dwconv_fwd(const float* __restrict__ x, const float* __restrict__ w,
                                      const float* __restrict__ b, float* __restrict__ y, int has_bias,
                                      DW_GEOM) {
  int mult = m / c;
  K_FOR(o, n * m * OH * OW) {
    int ow = o % OW, oh = (o / OW) % OH, mi = (o / (OH * OW)) % m, ni = o / (OH * OW * m);
    const float* xp = x + (ni * c + mi / mult) * H * W;
    const float* wp = w + mi * KH * KW;
    float acc = has_bias ? b[mi] : 0.0f;
    for (int i = 0; i < KH; i++) {
      int h = oh * SH - PT + i * DH;
      if (h < 0 || h >= H) continue;
      for (int j = 0; j < KW; j++) {
        int ww = ow * SW - PL + j * DW;
        if (ww < 0 || ww >= W) continue;
        acc += wp[i * KW + j] * xp[h * W + ww];
      }
    }
    y[o] = acc;
  }
}

// dwconv_bwd_x: dx = Σ over the output channels of the input's group, then the taps in
// order, of w·dy, from +0 (ops.depthwiseBackwardX's order).
extern "C" __global__ void dwconv_bwd_x(const float* __restrict__ w, const float* __restrict__ dy,
                                        float* __restrict__ dx, DW_GEOM) {
  int mult = m / c;
  K_FOR(e, n * c * H * W) {
    int ww = e % W, h = (e / W) % H, ci = (e / (H * W)) % c, ni = e / (H * W * c);
    float acc = 0.0f;
    for (int mi = ci * mult; mi < (ci + 1) * mult; mi++) {
      const float* gp = dy + (ni * m + mi) * OH * OW;
      const float* wp = w + mi * KH * KW;
      for (int i = 0; i < KH; i++) {
        int t = h + PT - i * DH;
        if (t < 0 || t % SH) continue;
        int oh = t / SH;
        if (oh >= OH) continue;
        for (int j = 0; j < KW; j++) {
          int u = ww + PL - j * DW;
          if (u < 0 || u % SW) continue;
          int ow = u / SW;
          if (ow >= OW) continue;
          acc += wp[i * KW + j] * gp[oh * OW + ow];
        }
      }
    }
    dx[e] = acc;
  }
}

// dwconv_bwd_w: dw[m, tap] = Σ over images (in double) of the image's Σ dy·x (in float, row
// by row), as ops.depthwiseBackwardW: one thread per weight, serial over the map (exact, and
// slow on large maps: a block-parallel version with the same sums would round differently).
extern "C" __global__ void dwconv_bwd_w(const float* __restrict__ x, const float* __restrict__ dy,
                                        float* __restrict__ dw, DW_GEOM) {
  int mult = m / c;
  K_FOR(q, m * KH * KW) {
    int j = q % KW, i = (q / KW) % KH, mi = q / (KH * KW);
    double sum = 0;
    for (int ni = 0; ni < n; ni++) {
      const float* xp = x + (ni * c + mi / mult) * H * W;
      const float* gp = dy + (ni * m + mi) * OH * OW;
      float s = 0.0f;
      for (int oh = 0; oh < OH; oh++) {
        int h = oh * SH - PT + i * DH;
        if (h < 0 || h >= H) continue;
        for (int ow = 0; ow < OW; ow++) {
          int ww = ow * SW - PL + j * DW;
          if (ww < 0 || ww >= W) continue;
          s += gp[oh * OW + ow] * xp[h * W + ww];
        }
      }
      sum += (double)s;
    }
    dw[q] = (float)sum;
  }
}
