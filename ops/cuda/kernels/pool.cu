// pool.cu: 2-D pooling over planes [P = N·C, H, W] → [P, OH, OW]. One thread per output
// (forward) or per input (backward: a gather over the windows that hold the input, in the
// CPU's output order, so no atomics and the CPU's bits). Any 1-D grid (grid-stride loops).
//
// Geometry as ops.geom2D: kernel KH×KW, stride SH×SW, dilation DH×DW, leading pads PT, PL.

// maxpool_fwd: y = each window's max, argmax = its index in the plane (the first maximum in
// row-major tap order; the first NaN, if any, wins), as ops.windowMax and the CPU's order-key
// argmax. A window of only padding gets −lowest and argmax −1.
extern "C" __global__ void maxpool_fwd(const float* __restrict__ x, float* __restrict__ y,
                                       int* __restrict__ argmax, int planes, int H, int W, int OH,
                                       int OW, int KH, int KW, int SH, int SW, int DH, int DW,
                                       int PT, int PL, float lowest) {
  K_FOR(o, planes * OH * OW) {
    int ow = o % OW, oh = (o / OW) % OH, pl = o / (OH * OW);
    const float* xp = x + pl * H * W;
    int h0 = oh * SH - PT, w0 = ow * SW - PL;
    int at = -1;
    float best = -lowest;
    for (int i = 0; i < KH; i++) {
      int h = h0 + i * DH;
      if (h < 0 || h >= H) continue;
      for (int j = 0; j < KW; j++) {
        int w = w0 + j * DW;
        if (w < 0 || w >= W) continue;
        float v = xp[h * W + w];
        if (at < 0 || v > best || v != v) {
          best = v;
          at = h * W + w;
          if (v != v) goto done;
        }
      }
    }
  done:
    y[o] = best;
    argmax[o] = at;
  }
}

// maxpool_bwd: dx[h, w] = Σ dy over the windows whose argmax is (h, w), added from +0 in
// output order (ops.maxPoolBackward's order).
extern "C" __global__ void maxpool_bwd(const float* __restrict__ dy, const int* __restrict__ argmax,
                                       float* __restrict__ dx, int planes, int H, int W, int OH,
                                       int OW, int KH, int KW, int SH, int SW, int DH, int DW,
                                       int PT, int PL) {
  K_FOR(e, planes * H * W) {
    int w = e % W, h = (e / W) % H, pl = e / (H * W);
    int self = h * W + w;
    const float* dyp = dy + pl * OH * OW;
    const int* ap = argmax + pl * OH * OW;
    float acc = 0.0f;
    // Taps from the last to the first: the windows come in ascending output order.
    for (int i = KH - 1; i >= 0; i--) {
      int t = h + PT - i * DH;
      if (t < 0 || t % SH) continue;
      int oh = t / SH;
      if (oh >= OH) continue;
      for (int j = KW - 1; j >= 0; j--) {
        int u = w + PL - j * DW;
        if (u < 0 || u % SW) continue;
        int ow = u / SW;
        if (ow >= OW) continue;
        if (ap[oh * OW + ow] == self) acc += dyp[oh * OW + ow];
      }
    }
    dx[e] = acc;
  }
}

// avgpool_fwd: y = the window's sum (in double, row-major, as ops.avgPool) over the divisor
// rows[3oh+2]·cols[3ow+2]. rows and cols hold (start, end, count) per output row and column:
// ops' fixedWindows or adaptiveWindows, so one kernel serves AvgPool2D, AdaptiveAvgPool2D and
// GlobalAvgPool2D.
extern "C" __global__ void avgpool_fwd(const float* __restrict__ x, float* __restrict__ y, int planes,
                                       int H, int W, int OH, int OW, const int* __restrict__ rows,
                                       const int* __restrict__ cols) {
  K_FOR(o, planes * OH * OW) {
    int ow = o % OW, oh = (o / OW) % OH, pl = o / (OH * OW);
    const float* xp = x + pl * H * W;
    const int* r = rows + 3 * oh;
    const int* c = cols + 3 * ow;
    double s = 0;
    for (int i = r[0]; i < r[1]; i++)
      for (int j = c[0]; j < c[1]; j++) s += xp[i * W + j];
    y[o] = (float)(s / (double)(r[2] * c[2]));
  }
}

// avgpool_bwd: dx[h, w] = Σ dy/(divisor) over the windows that hold (h, w), in float from
// +0 in output order (ops.avgPoolBackward's arithmetic). hinv[2h], hinv[2h+1] is the range
// of output rows whose window holds row h (windows are monotone, so it is one range); winv
// likewise for columns.
extern "C" __global__ void avgpool_bwd(const float* __restrict__ dy, float* __restrict__ dx, int planes,
                                       int H, int W, int OH, int OW, const int* __restrict__ rows,
                                       const int* __restrict__ cols, const int* __restrict__ hinv,
                                       const int* __restrict__ winv) {
  K_FOR(e, planes * H * W) {
    int w = e % W, h = (e / W) % H, pl = e / (H * W);
    const float* dyp = dy + pl * OH * OW;
    float acc = 0.0f;
    for (int oh = hinv[2 * h]; oh < hinv[2 * h + 1]; oh++)
      for (int ow = winv[2 * w]; ow < winv[2 * w + 1]; ow++)
        acc += dyp[oh * OW + ow] / (float)(rows[3 * oh + 2] * cols[3 * ow + 2]);
    dx[e] = acc;
  }
}

// global_avgpool_fwd: y[p] = the mean of plane p, one block per plane (grid (P,1,1), any
// width), a fixed-order block sum in double: the fast path for GlobalAvgPool2D's forward
// (its backward is avgpool_bwd with one window).
extern "C" __global__ void global_avgpool_fwd(const float* __restrict__ x, float* __restrict__ y, int hw) {
  __shared__ double sh[1024];
  const float* xp = x + blockIdx.x * hw;
  double s = 0;
  for (int k = threadIdx.x; k < hw; k += blockDim.x) s += xp[k];
  s = k_block_sum(s, sh);
  if (threadIdx.x == 0) y[blockIdx.x] = (float)(s / hw);
}
