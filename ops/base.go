package ops

import (
	"fmt"
	"hash"
	"hash/fnv"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
	"gorgonia.org/tensor"

	_ "github.com/ssl4dp/ssl4dp/internal/blas" // OpenBLAS unless built with -tags purego
)

// Float is the element type every op supports: float32 for training, float64 for gradient checks.
type Float interface{ ~float32 | ~float64 }

// hashOf hashes an op through its WriteHash, so Hashcode can never disagree with WriteHash.
func hashOf(op interface{ WriteHash(hash.Hash) }) uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}

// floats returns the backing slice of a float32 or float64 tensor.
func floats[T Float](t tensor.Tensor) []T {
	return t.Data().([]T)
}

// errorf prefixes messages with the package name, as every error of this package is.
func errorf(format string, args ...any) error {
	return fmt.Errorf("ops: "+format, args...)
}

// gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices through the BLAS that
// internal/blas selected (OpenBLAS by default).
func gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	switch cc := any(c).(type) {
	case []float32:
		blas32.Implementation().Sgemm(ta, tb, m, n, k, float32(alpha), any(a).([]float32), lda, any(b).([]float32), ldb, float32(beta), cc, ldc)
	case []float64:
		blas64.Implementation().Dgemm(ta, tb, m, n, k, float64(alpha), any(a).([]float64), lda, any(b).([]float64), ldb, float64(beta), cc, ldc)
	}
}
