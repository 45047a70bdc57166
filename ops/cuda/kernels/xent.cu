// xent.cu: softmax cross-entropy over the class axis of logits [N, C, inner] with float
// labels [N, inner] holding class indices, entries equal to ignore (255) left out, mean over
// the rest (ops.SoftmaxCrossEntropy). InfoNCE's loss is this with inner = 1.
//
// Three launches, all deterministic: xent_fwd writes each position's loss (one thread per
// position, any 1-D grid); xent_reduce (one block, any width) checks the labels and sums the
// losses in a fixed order into the mean; xent_bwd writes the gradient, reading the count that
// xent_reduce left on the device. A thread reads its position's C logits inner apart: the
// threads of a warp read adjacent positions, so the reads coalesce when inner > 1.

// xent_label is the label's class, ignore, or XENT_INVALID when it is neither a class in
// [0, c) nor ignore (a fraction, NaN, out of range): the CPU's xentCount rule. The sentinel
// is INT_MIN, which no label converts to (the range check excludes it), so a negative ignore
// value (PLMoCo's −1) stays distinct from an invalid label.
#define XENT_INVALID (-2147483647 - 1)
static __device__ __forceinline__ int xent_label(float v, int c, int ignore) {
  if (!(v > -2147483648.0f && v < 2147483648.0f)) return XENT_INVALID;
  int l = (int)v;
  if ((float)l != v) return XENT_INVALID;
  if (l == ignore) return l;
  return (l >= 0 && l < c) ? l : XENT_INVALID;
}

// xent_fwd: loss[p] = max + log Σ exp(x − max) − x[label] for position p = (image, inner
// offset), 0 where the label is ignored or invalid.
extern "C" __global__ void xent_fwd(const float* __restrict__ x, const float* __restrict__ labels,
                                    float* __restrict__ loss, int n, int c, int inner, int ignore) {
  K_FOR(p, n * inner) {
    int l = xent_label(labels[p], c, ignore);
    if (l == XENT_INVALID || l == ignore) {
      loss[p] = 0;
      continue;
    }
    const float* f = x + (p / inner) * c * inner + p % inner;
    float m = f[0];
    for (int k = 1; k < c; k++) m = k_fmax(m, f[k * inner]);
    double s = 0;
    for (int k = 0; k < c; k++) s += k_exp(f[k * inner] - m);
    loss[p] = (float)((double)m + (double)k_log((float)s) - (double)f[l * inner]);
  }
}

// xent_reduce: out[0] = Σ loss / count (0 when every label is ignored); info[0] = count,
// info[1] = the first position whose label is invalid, or −1 (the caller turns that into
// the CPU op's error). One block (grid (1,1,1)), any width up to 1024.
extern "C" __global__ void xent_reduce(const float* __restrict__ loss, const float* __restrict__ labels,
                                       float* __restrict__ out, int* __restrict__ info, int npos,
                                       int c, int ignore) {
  __shared__ double sh[1024];
  __shared__ int bad[1024];
  double s = 0, cnt = 0;
  int first = 0x7fffffff;
  for (int p = threadIdx.x; p < npos; p += blockDim.x) {
    int l = xent_label(labels[p], c, ignore);
    if (l == XENT_INVALID) {
      if (p < first) first = p;
    } else if (l != ignore) {
      s += loss[p];
      cnt += 1;
    }
  }
  s = k_block_sum(s, sh);
  cnt = k_block_sum(cnt, sh);
  unsigned t = threadIdx.x;
  bad[t] = first;
  __syncthreads();
  if (t == 0) {
    for (unsigned i = 1; i < blockDim.x; i++) first = bad[i] < first ? bad[i] : first;
    out[0] = cnt > 0 ? (float)(s / cnt) : 0.0f;
    info[0] = (int)cnt;
    info[1] = first == 0x7fffffff ? -1 : first;
  }
}

// xent_bwd: dx = g·(softmax(x) − onehot(label)) / count per position, 0 where the label is
// ignored (or every label is); g = dloss[0], count = info[0] from xent_reduce.
extern "C" __global__ void xent_bwd(const float* __restrict__ x, const float* __restrict__ labels,
                                    const float* __restrict__ dloss, const int* __restrict__ info,
                                    float* __restrict__ dx, int n, int c, int inner, int ignore) {
  int count = info[0];
  double w = count > 0 ? (double)dloss[0] / count : 0.0;
  K_FOR(p, n * inner) {
    int base = (p / inner) * c * inner + p % inner;
    const float* f = x + base;
    float* d = dx + base;
    int l = xent_label(labels[p], c, ignore);
    if (l == XENT_INVALID || l == ignore || count == 0) {
      for (int k = 0; k < c; k++) d[k * inner] = 0;
      continue;
    }
    float m = f[0];
    for (int k = 1; k < c; k++) m = k_fmax(m, f[k * inner]);
    double s = 0;
    for (int k = 0; k < c; k++) s += k_exp(f[k * inner] - m);
    float ws = (float)(w / s);
    for (int k = 0; k < c; k++) d[k * inner] = ws * k_exp(f[k * inner] - m);
    d[l * inner] -= (float)w;
  }
}
