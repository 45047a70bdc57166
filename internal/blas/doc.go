// Package blas chooses the BLAS behind Gorgonia and gonum for the whole program.
//
// The default build links OpenBLAS (Debian libopenblas-dev) through gonum's netlib
// wrapper: GEMM runs at 80–145 GFLOP/s on our 2-core machines against ~25 for gonum's pure-Go
// code. Build with -tags purego to drop the cgo dependency; both builds pass the same tests.
//
// Import it for its side effect, once, from anything that computes:
//
//	import _ "github.com/ssl4dp/ssl4dp/internal/blas"
//
// Code that calls BLAS itself should go through gonum's blas32/blas64 packages, which this
// package points at the chosen implementation.
package blas
