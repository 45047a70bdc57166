// A stand-in for libcublas.so.13, built by the tests with gcc: a column-major reference
// SGEMM on host memory (the stand-in driver's device memory is host memory), so the tests
// check the row-major mapping of cublas.Gemm for every transpose. Build with -DNO_GEMM to
// leave cublasSgemm_v2 out.
typedef int cublasStatus_t;
static int math_mode;
cublasStatus_t cublasCreate_v2(void **h) { *h = (void *)1; return 0; }
cublasStatus_t cublasDestroy_v2(void *h) { (void)h; return 0; }
cublasStatus_t cublasSetStream_v2(void *h, void *s) { (void)h; return s ? 0 : 7; }
cublasStatus_t cublasSetMathMode(void *h, int mode) { (void)h; math_mode = mode; return mode == 0 || mode == 3 ? 0 : 7; }
cublasStatus_t cublasGetProperty(int what, int *v) { *v = what == 0 ? 13 : what == 1 ? 1 : 0; return 0; }
#ifndef NO_GEMM
cublasStatus_t cublasSgemm_v2(void *h, int ta, int tb, int m, int n, int k, const float *alpha, const float *a, int lda,
	const float *b, int ldb, const float *beta, float *c, int ldc) {
	(void)h;
	if (lda < (ta ? k : m) || ldb < (tb ? n : k) || ldc < m) return 7;
	for (int j = 0; j < n; j++)
		for (int i = 0; i < m; i++) {
			double s = 0;
			for (int p = 0; p < k; p++) {
				float av = ta ? a[p + i * lda] : a[i + p * lda];
				float bv = tb ? b[j + p * ldb] : b[p + j * ldb];
				s += (double)av * bv;
			}
			c[i + j * ldc] = (float)(*alpha * s + (*beta == 0 ? 0 : *beta * c[i + j * ldc]));
		}
	return 0;
}
#endif
