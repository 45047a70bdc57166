// resize.cu: separable resampling of planes [P, IH, IW] → [P, OH, OW] by sparse per-axis
// matrices in CSR form (row pointers, column indices, weights). The host builds them from
// ops' own interpolation matrices (resizeAxis.matrix), so every mode and coordinate
// convention (bilinear, nearest; half_pixel, align_corners, asymmetric, …) is exactly the CPU
// op's, and the backward pass is the same kernel with the transposed matrices (dX = Rhᵀ·dY·Rw):
// a gather, no atomics. One thread per output, any 1-D grid; sums in double.
extern "C" __global__ void resize_sparse(const float* __restrict__ x, float* __restrict__ y, int planes,
                                         int IH, int IW, int OH, int OW, const int* __restrict__ hptr,
                                         const int* __restrict__ hidx, const float* __restrict__ hval,
                                         const int* __restrict__ wptr, const int* __restrict__ widx,
                                         const float* __restrict__ wval) {
  K_FOR(o, planes * OH * OW) {
    int ow = o % OW, oh = (o / OW) % OH, pl = o / (OH * OW);
    const float* xp = x + pl * IH * IW;
    double s = 0;
    for (int a = hptr[oh]; a < hptr[oh + 1]; a++) {
      const float* row = xp + hidx[a] * IW;
      double r = 0;
      for (int b = wptr[ow]; b < wptr[ow + 1]; b++) r += (double)wval[b] * row[widx[b]];
      s += (double)hval[a] * r;
    }
    y[o] = (float)s;
  }
}
