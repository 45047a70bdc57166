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
//
// # Threads
//
// OpenBLAS runs single-threaded (DefaultThreads) unless OPENBLAS_NUM_THREADS (or
// GOTO_NUM_THREADS, OMP_NUM_THREADS) says otherwise: the ops package cuts large products
// into blocks and runs them on goroutines itself. OpenBLAS's own worker threads spin
// between calls, taking the CPU from the Go loops that run in between (measured: ~40% more
// CPU time per training step on 2 cores), and its results change with its thread count,
// which ops' shape-fixed blocks do not.
//
// # Kernels
//
// OpenBLAS picks its kernels for the CPU at start-up; OPENBLAS_CORETYPE overrides the choice
// (Core reports it). On the AMD EPYC machines this project runs on, Debian's OpenBLAS 0.3.21
// picks its AVX-512 "Cooperlake" kernels, which ran the training step's products about
// 1.6–2× faster than the AVX2 "Haswell" ones in docs/benchmarks.md's measurements; an
// environment that sets OPENBLAS_CORETYPE=Haswell gets the slower ones.
package blas

// DefaultThreads is the OpenBLAS thread count set at start-up when no environment variable
// sets one.
const DefaultThreads = 1
