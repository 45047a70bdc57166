// batchnorm.cu: BatchNorm over x [N, C, inner] (inner = H·W, or 1), training and eval, the
// fused BatchNorm+ReLU (relu = 1), and the per-channel sum (a bias's gradient).
//
// The statistics kernels run one block per channel (grid (C,1,1), a 1-D block of any width
// up to 1024, 256 a good one): each thread sums a fixed strided subset in double, then
// k_block_sum folds them in a fixed tree, so the bits depend only on the shape and the block
// width: no atomics. The elementwise kernels take any 1-D grid (grid-stride loops) and work
// in double like the CPU (ops.bnForward, ops.bnInputGrad).

// CHANNEL_FOR visits, as offset o, the elements of channel ci this thread owns: image by
// image, every blockDim.x-th position from threadIdx.x (a fixed order).
#define CHANNEL_FOR(ci, n, c, inner, o)                                    \
  for (int ni_ = 0; ni_ < (n); ni_++)                                      \
    for (int k_ = threadIdx.x, o = (ni_ * (c) + (ci)) * (inner) + k_; k_ < (inner); \
         k_ += blockDim.x, o += blockDim.x)

// bn_stats: the batch mean and 1/√(var + eps) (biased variance: two passes, the centred sum
// of squares second, as the CPU) of every channel, and the running statistics' update,
// running = running·momentum + batch·(1 − momentum), with the unbiased variance when
// unbiased = 1 (PyTorch). Grid (C,1,1).
extern "C" __global__ void bn_stats(const float* __restrict__ x, float* __restrict__ mean,
                                    float* __restrict__ invstd, float* __restrict__ run_mean,
                                    float* __restrict__ run_var, int n, int c, int inner,
                                    float eps, float momentum, int unbiased) {
  __shared__ double sh[1024];
  int ci = blockIdx.x;
  double m = (double)n * inner;
  double s = 0;
  CHANNEL_FOR(ci, n, c, inner, o) { s += x[o]; }
  double mu = k_block_sum(s, sh) / m;
  double ss = 0;
  CHANNEL_FOR(ci, n, c, inner, o) {
    double d = x[o] - mu;
    ss += d * d;
  }
  ss = k_block_sum(ss, sh);
  if (threadIdx.x == 0) {
    double var = ss / m;
    mean[ci] = (float)mu;
    invstd[ci] = (float)(1.0 / __builtin_sqrt(var + (double)eps));
    double rv = unbiased ? ss / (m - 1) : var;
    run_mean[ci] = (float)(run_mean[ci] * (double)momentum + mu * (1 - (double)momentum));
    run_var[ci] = (float)(run_var[ci] * (double)momentum + rv * (1 - (double)momentum));
  }
}

// bn_eval_stats: eval mode normalises with the running statistics. One thread per channel.
extern "C" __global__ void bn_eval_stats(const float* __restrict__ run_mean,
                                         const float* __restrict__ run_var, float* __restrict__ mean,
                                         float* __restrict__ invstd, int c, float eps) {
  K_FOR(ci, c) {
    mean[ci] = run_mean[ci];
    invstd[ci] = (float)(1.0 / __builtin_sqrt((double)run_var[ci] + (double)eps));
  }
}

// bn_apply: y = x·a + b per channel, a = scale·invstd, b = bias − mean·a, then max(·, 0)
// when relu = 1 (NaN kept, as Go's max). total = N·C·inner.
extern "C" __global__ void bn_apply(const float* __restrict__ x, const float* __restrict__ mean,
                                    const float* __restrict__ invstd, const float* __restrict__ scale,
                                    const float* __restrict__ bias, float* __restrict__ y, int total,
                                    int c, int inner, int relu) {
  K_FOR(i, total) {
    int ci = (i / inner) % c;
    double a = (double)scale[ci] * invstd[ci];
    double b = (double)bias[ci] - (double)mean[ci] * a;
    double v = (double)x[i] * a + b;
    if (relu && !(v > 0 || v != v)) v = 0;
    y[i] = (float)v;
  }
}

// bn_stats_grad: per channel dscale = Σ g·(x − mean)·invstd into st[ci] and dbias = Σ g into
// st[C + ci], with g = dy, or dy where y > 0 when relu = 1 (ops.bnStatsGrad). Grid (C,1,1).
extern "C" __global__ void bn_stats_grad(const float* __restrict__ x, const float* __restrict__ y,
                                         const float* __restrict__ dy, const float* __restrict__ mean,
                                         const float* __restrict__ invstd, float* __restrict__ st,
                                         int n, int c, int inner, int relu) {
  __shared__ double sh[1024];
  int ci = blockIdx.x;
  double mu = mean[ci];
  double dot = 0, sum = 0;
  CHANNEL_FOR(ci, n, c, inner, o) {
    double g = (!relu || k_positive(y[o])) ? (double)dy[o] : 0.0;
    dot += g * ((double)x[o] - mu);
    sum += g;
  }
  dot = k_block_sum(dot, sh);
  sum = k_block_sum(sum, sh);
  if (threadIdx.x == 0) {
    st[ci] = (float)(dot * (double)invstd[ci]);
    st[c + ci] = (float)sum;
  }
}

// bn_input_grad: dx = k·g + c1·x + c0 with k = scale·invstd and, in training (training = 1),
// c1 = −k·invstd·dscale/M, c0 = −k·dbias/M − c1·mean (M = N·inner); in eval c1 = c0 = 0.
// g as in bn_stats_grad; st = [dscale; dbias]. total = N·C·inner.
extern "C" __global__ void bn_input_grad(const float* __restrict__ x, const float* __restrict__ scale,
                                         const float* __restrict__ y, const float* __restrict__ dy,
                                         const float* __restrict__ mean, const float* __restrict__ invstd,
                                         const float* __restrict__ st, float* __restrict__ dx, int n,
                                         int c, int inner, int relu, int training) {
  double m = (double)n * inner;
  K_FOR(i, n * c * inner) {
    int ci = (i / inner) % c;
    double is = invstd[ci];
    double k = (double)scale[ci] * is;
    double c0 = 0, c1 = 0;
    if (training) {
      c1 = -k * is * (double)st[ci] / m;
      c0 = -k * (double)st[c + ci] / m - c1 * (double)mean[ci];
    }
    double g = (!relu || k_positive(y[i])) ? (double)dy[i] : 0.0;
    dx[i] = (float)(k * g + c1 * (double)x[i] + c0);
  }
}

// channel_sum: out[ci] = Σ over N and inner of x[N, C, inner] (ops.chanSum). Grid (C,1,1).
extern "C" __global__ void channel_sum(const float* __restrict__ x, float* __restrict__ out, int n,
                                       int c, int inner) {
  __shared__ double sh[1024];
  int ci = blockIdx.x;
  double s = 0;
  CHANNEL_FOR(ci, n, c, inner, o) { s += x[o]; }
  s = k_block_sum(s, sh);
  if (threadIdx.x == 0) out[ci] = (float)s;
}
