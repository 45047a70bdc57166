// broadcast.cu: Add, Sub, Mul and Div with NumPy broadcasting (ops.Add, …; kind 0, 1, 2, 3 in
// that order) and their gradients. The host aligns both operands to the output's rank and
// passes per-axis tables; an operand's stride is 0 along the axes it is broadcast over (as
// ops.broadcastStrides). One thread per element, any 1-D grid, rank ≤ 8, exact.

static __device__ __forceinline__ float arith_apply(int kind, float a, float b) {
  switch (kind) {
  case 0: return a + b;
  case 1: return a - b;
  case 2: return a * b;
  default: return a / b;
  }
}

// arith_broadcast: y = a ∘ b over the output shape; geo = [oshape | astride | bstride], rank
// entries each.
extern "C" __global__ void arith_broadcast(const float* __restrict__ a, const float* __restrict__ b,
                                           float* __restrict__ y, int total, int rank,
                                           const int* __restrict__ geo, int kind) {
  const int *oshape = geo, *as = geo + rank, *bs = geo + 2 * rank;
  K_FOR(e, total) {
    int ia = 0, ib = 0, r = e;
    for (int d = rank - 1; d >= 0; d--) {
      int c = r % oshape[d];
      r /= oshape[d];
      ia += c * as[d];
      ib += c * bs[d];
    }
    y[e] = arith_apply(kind, a[ia], b[ib]);
  }
}

// arith_broadcast_grad: the gradient with respect to operand wrt (0 = a, 1 = b), of shape
// dshape (aligned to the output's rank): each element gathers ∂y/∂operand·g over the output
// elements it was broadcast to, in row-major output order from +0, as ops.arithDiffDo adds
// them; where same = 1 (the operand's shape is the output's, rank included) Add's operands
// and Sub's a get g itself, copied, as there. geo = [oshape | dshape | ostride | astride |
// bstride].
extern "C" __global__ void arith_broadcast_grad(const float* __restrict__ a, const float* __restrict__ b,
                                                const float* __restrict__ g, float* __restrict__ d,
                                                int dtotal, int rank, const int* __restrict__ geo,
                                                int kind, int wrt, int same) {
  const int *oshape = geo, *dshape = geo + rank, *os = geo + 2 * rank, *as = geo + 3 * rank,
            *bs = geo + 4 * rank;
  int nb = 1; // output elements per operand element
  for (int k = 0; k < rank; k++)
    if (dshape[k] != oshape[k]) nb *= oshape[k];
  bool plain = kind == 0 || (kind == 1 && wrt == 0);
  K_FOR(e, dtotal) {
    int coord[8];
    int r = e;
    for (int k = rank - 1; k >= 0; k--) {
      coord[k] = r % dshape[k];
      r /= dshape[k];
    }
    if (same && plain) {
      int ig = 0;
      for (int k = 0; k < rank; k++) ig += coord[k] * os[k];
      d[e] = g[ig];
      continue;
    }
    float acc = 0.0f;
    for (int q = 0; q < nb; q++) {
      int rq = q;
      for (int k = rank - 1; k >= 0; k--) {
        if (dshape[k] != oshape[k]) {
          coord[k] = rq % oshape[k];
          rq /= oshape[k];
        }
      }
      int ig = 0, ia = 0, ib = 0;
      for (int k = 0; k < rank; k++) {
        ig += coord[k] * os[k];
        ia += coord[k] * as[k];
        ib += coord[k] * bs[k];
      }
      float gv = g[ig];
      if (plain) acc += gv;
      else if (kind == 1) acc -= gv;
      else if (kind == 2) acc += wrt == 0 ? gv * b[ib] : gv * a[ia];
      else if (wrt == 0) acc += gv / b[ib];
      else acc -= gv * a[ia] / (b[ib] * b[ib]);
    }
    d[e] = acc;
  }
}
