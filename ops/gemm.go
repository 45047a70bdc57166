package ops

// Parallel GEMM with results that do not depend on the number of CPUs.
//
// internal/blas runs OpenBLAS single-threaded: its worker threads spin between calls, taking
// the CPU from the Go loops (im2col, BatchNorm, …) that run in between, and its result
// depends on its thread count. Instead the ops cut a large product into blocks of output
// rows or columns, one single-threaded BLAS call each, and run the blocks on the available
// CPUs. OpenBLAS's rounding depends on where a product is cut (its edge kernels and
// small-matrix paths sum in other orders), so the cuts depend only on the shape: the same
// inputs give bit-identical outputs whether one CPU or sixteen compute the blocks.

// gemmBlockFlops is the work (2·m·n·k) per block a product is cut into, at most
// gemmMaxBlocks blocks. Fewer, larger blocks repack less: each block packs the whole
// operand it shares with the others. A variable so tests can cut tiny products.
var gemmBlockFlops = 4 << 20

// gemmMaxBlocks bounds the cuts: enough for the CPUs this project runs on, few enough that
// repacking the shared operand stays a few percent of the work.
const gemmMaxBlocks = 4

// gemmBlockAlign keeps cuts on multiples of the widest micro-kernel tile, so blocks run
// OpenBLAS's full-tile kernels and the edges stay where the uncut product has them.
const gemmBlockAlign = 16

// gemmPar computes C = alpha·op(A)·op(B) + beta·C like gemm, in blocks along the longer
// output side (rows m or columns n), the blocks run in parallel.
func gemmPar[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	cuts := gemmCuts(max(m, n), 2*m*n*k)
	if len(cuts) <= 2 {
		gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	byRows := m > n
	runBlocks(len(cuts)-1, func(i int) {
		lo, hi := cuts[i], cuts[i+1]
		if byRows {
			aOff := lo * lda // row lo of A
			if transA {
				aOff = lo // A is stored k×m: column lo
			}
			gemm(transA, transB, hi-lo, n, k, alpha, a[aOff:], lda, b, ldb, beta, c[lo*ldc:], ldc)
			return
		}
		bOff := lo // column lo of B
		if transB {
			bOff = lo * ldb // B is stored n×k: row lo
		}
		gemm(transA, transB, m, hi-lo, k, alpha, a, lda, b[bOff:], ldb, beta, c[lo:], ldc)
	})
}

// gemmCuts returns the block boundaries 0 = c₀ < c₁ < … = size along an output side of a
// product of the given work: a function of the shape only.
func gemmCuts(size, flops int) []int {
	blocks := min(gemmMaxBlocks, flops/max(gemmBlockFlops, 1), size/gemmBlockAlign)
	if blocks < 2 {
		return []int{0, size}
	}
	cuts := make([]int, blocks+1)
	for i := 1; i < blocks; i++ {
		cuts[i] = (i*size/blocks + gemmBlockAlign/2) / gemmBlockAlign * gemmBlockAlign
	}
	cuts[blocks] = size
	return cuts
}

// runBlocks runs fn(0), …, fn(n−1) on up to GOMAXPROCS goroutines. Each call must write
// memory no other call touches; which goroutine runs which call does not matter.
func runBlocks(n int, fn func(i int)) {
	parallelFor(n, minParallelWork, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			fn(i)
		}
	})
}
