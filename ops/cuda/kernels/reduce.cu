// reduce.cu: sums. reduce_axis and its gradient serve ReduceSum/ReduceMean over one run of
// adjacent axes (ops.reduceDo; the cosine losses' row sums and means); sum_partial and
// sum_final are a two-stage whole-tensor sum for large tensors (a loss over a map, the
// gradient norm for clipping). All in double, in an order fixed by the shape and launch.

// reduce_axis: y[o, i] = Σ_k x[o, k, i] / divisor (1 for a sum, the count for a mean), one
// thread per output summing k in order, as the CPU: the same bits. Any 1-D grid.
extern "C" __global__ void reduce_axis(const float* __restrict__ x, float* __restrict__ y, int outer,
                                       int n, int inner, int divisor) {
  double sc = 1.0 / divisor;
  K_FOR(f, outer * inner) {
    const float* xp = x + (f / inner) * n * inner + f % inner;
    double s = 0;
    for (int k = 0; k < n; k++) s += xp[k * inner];
    y[f] = (float)(s * sc);
  }
}

// reduce_axis_bwd: dx[o, k, i] = (1/divisor as float)·dy[o, i] (ops.reduceDiffDo).
extern "C" __global__ void reduce_axis_bwd(const float* __restrict__ dy, float* __restrict__ dx, int outer,
                                           int n, int inner, int divisor) {
  float sc = (float)(1.0 / divisor);
  K_FOR(e, outer * n * inner) {
    int i = e % inner, o = e / (n * inner);
    dx[e] = sc * dy[o * inner + i];
  }
}

// sum_partial: partial[b] = Σ x (squares = 0) or Σ x² (squares = 1) over block b's chunk,
// the b-th of gridDim.x contiguous chunks of ceil(n / gridDim.x) elements; any 1-D block.
// A fixed grid gives fixed bits.
extern "C" __global__ void sum_partial(const float* __restrict__ x, float* __restrict__ partial, int n,
                                       int squares) {
  __shared__ double sh[1024];
  int chunk = (n + gridDim.x - 1) / gridDim.x;
  int lo = blockIdx.x * chunk, hi = lo + chunk < n ? lo + chunk : n;
  double s = 0;
  for (int k = lo + threadIdx.x; k < hi; k += blockDim.x) {
    double v = x[k];
    s += squares ? v * v : v;
  }
  s = k_block_sum(s, sh);
  if (threadIdx.x == 0) partial[blockIdx.x] = (float)s;
}

// sum_final: out[0] = Σ partial / divisor; one block (grid (1,1,1)), any width.
extern "C" __global__ void sum_final(const float* __restrict__ partial, float* __restrict__ out, int n,
                                     int divisor) {
  __shared__ double sh[1024];
  double s = 0;
  for (int k = threadIdx.x; k < n; k += blockDim.x) s += partial[k];
  s = k_block_sum(s, sh);
  if (threadIdx.x == 0) out[0] = (float)(s / divisor);
}
