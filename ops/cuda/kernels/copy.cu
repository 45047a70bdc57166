// copy.cu: the data-movement ops (Transpose, Slice, Concat, Pad) and their gradients as two
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
