// im2col.cu: the column matrix of a convolution (ops/im2col.go's layout), so that the
// convolution is one cuBLAS GEMM, and its adjoint. x is [N, C, H, W]; col has C·KH·KW rows
// ld elements apart, row (ci·KH + i)·KW + j, and image n's OH·OW columns start at column
// n·OH·OW (ld = N·OH·OW: one wide matrix for the batch; N = 1, ld = OH·OW: ops.im2col).
// Geometry as ops.geom2D: stride SH×SW, dilation DH×DW, leading pads PT, PL. Any 1-D grid.

// im2col: one thread per column entry; taps over padding read 0.
extern "C" __global__ void im2col(const float* __restrict__ x, float* __restrict__ col, int n, int c,
                                  int H, int W, int KH, int KW, int SH, int SW, int DH, int DW,
                                  int PT, int PL, int OH, int OW, int ld) {
  int ohw = OH * OW;
  K_FOR(e, c * KH * KW * n * ohw) {
    int q = e % ohw, ni = (e / ohw) % n, row = e / (ohw * n);
    int j = row % KW, i = (row / KW) % KH, ci = row / (KW * KH);
    int oh = q / OW, ow = q % OW;
    int h = oh * SH - PT + i * DH, w = ow * SW - PL + j * DW;
    float v = 0.0f;
    if (h >= 0 && h < H && w >= 0 && w < W) v = x[((ni * c + ci) * H + h) * W + w];
    col[row * ld + ni * ohw + q] = v;
  }
}

// col2im: dx += the adjoint of im2col: one thread per input element gathers the entries read
// from it, taps in ascending order (ops.col2im adds them in that order too: the same bits).
// dx is accumulated into, as the CPU's.
extern "C" __global__ void col2im(const float* __restrict__ col, float* __restrict__ dx, int n, int c,
                                  int H, int W, int KH, int KW, int SH, int SW, int DH, int DW,
                                  int PT, int PL, int OH, int OW, int ld) {
  int ohw = OH * OW;
  K_FOR(e, n * c * H * W) {
    int w = e % W, h = (e / W) % H, ci = (e / (H * W)) % c, ni = e / (H * W * c);
    float acc = dx[e];
    for (int i = 0; i < KH; i++) {
      int t = h + PT - i * DH;
      if (t < 0 || t % SH) continue;
      int oh = t / SH;
      if (oh >= OH) continue;
      for (int j = 0; j < KW; j++) {
        int u = w + PL - j * DW;
        if (u < 0 || u % SW) continue;
        int ow = u / SW;
        if (ow >= OW) continue;
        acc += col[((ci * KH + i) * KW + j) * ld + ni * ohw + oh * OW + ow];
      }
    }
    dx[e] = acc;
  }
}
