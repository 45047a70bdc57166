// copy.cu: the data-movement ops (Transpose, Slice, Concat, Pad) and their gradients as three
// index-mapping kernels; the host works out shapes, strides and offsets. One thread per
// element of the iteration shape (row-major over `rank` ≤ 8 axes), any 1-D grid; exact.

// copy_strided: dst[doff + Σ c_d·dstride_d] = src[soff + Σ c_d·sstride_d] for every
// coordinate c of shape. Transpose (permuted source strides), Slice (start offset, strides
// times steps, negative ones included), each input of Concat (an offset into the output) and
// their gradients; constant Pad is fill + copy_strided into the interior.
extern "C" __global__ void copy_strided(const float* __restrict__ src, float* __restrict__ dst, int total,
                                        int rank, const int* __restrict__ shape,
                                        const int* __restrict__ sstride, const int* __restrict__ dstride,
                                        int soff, int doff) {
  K_FOR(e, total) {
    int s = soff, d = doff, r = e;
    for (int a = rank - 1; a >= 0; a--) {
      int c = r % shape[a];
      r /= shape[a];
      s += c * sstride[a];
      d += c * dstride[a];
    }
    dst[d] = src[s];
  }
}

// gather_axes: dst (contiguous, shape oshape) takes, at coordinate c, src[Σ map_d(c_d)],
// where map_d is the table maps[mapoff[d] ...] of source element offsets along axis d (index
// times stride), or value where any entry is −1. Pad in every mode, from the CPU op's own
// tables (ops.padOp's indexMap).
extern "C" __global__ void gather_axes(const float* __restrict__ src, float* __restrict__ dst, int total,
                                       int rank, const int* __restrict__ oshape,
                                       const int* __restrict__ mapoff, const int* __restrict__ maps,
                                       float value) {
  K_FOR(e, total) {
    int s = 0, r = e;
    bool pad = false;
    for (int a = rank - 1; a >= 0; a--) {
      int c = r % oshape[a];
      r /= oshape[a];
      int m = maps[mapoff[a] + c];
      if (m < 0) pad = true;
      s += m;
    }
    dst[e] = pad ? value : src[s];
  }
}

// scatter_axes: the adjoint of gather_axes (Pad's gradient in every mode, and any ops
// indexMap scatter-add): dx at source coordinate s is Σ g over the output coordinates whose
// map entries point at s, gathered in row-major output order from +0 (ops.scatterAdd's
// order). inv holds, for axis d from invoff[d], ishape[d] + 1 row pointers, absolute indices
// into inv where that source index's ascending list of output indices lies; ostride are the
// output's row-major strides.
extern "C" __global__ void scatter_axes(const float* __restrict__ g, float* __restrict__ dx, int total,
                                        int rank, const int* __restrict__ ishape,
                                        const int* __restrict__ ostride, const int* __restrict__ invoff,
                                        const int* __restrict__ inv) {
  K_FOR(e, total) {
    int lo[8], hi[8], at[8];
    int r = e;
    bool empty = false;
    for (int a = rank - 1; a >= 0; a--) {
      int c = r % ishape[a];
      r /= ishape[a];
      const int* ptr = inv + invoff[a];
      lo[a] = ptr[c];
      hi[a] = ptr[c + 1];
      at[a] = lo[a];
      if (lo[a] == hi[a]) empty = true;
    }
    float acc = 0.0f;
    while (!empty) {
      int o = 0;
      for (int a = 0; a < rank; a++) o += inv[at[a]] * ostride[a];
      acc += g[o];
      int a = rank - 1; // odometer: the last axis fastest, as row-major order
      while (a >= 0 && ++at[a] == hi[a]) {
        at[a] = lo[a];
        a--;
      }
      if (a < 0) break;
    }
    dx[e] = acc;
  }
}
