//go:build purego

package blas

import "runtime"

// Name says which BLAS this build uses; bench and train print it.
const Name = "gonum (pure Go)"

// Core is empty: gonum's kernels are the same Go code on every CPU.
func Core() string { return "" }

// Threads is GOMAXPROCS, the goroutines gonum's GEMM splits its work over.
func Threads() int { return runtime.GOMAXPROCS(0) }
