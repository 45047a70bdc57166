//go:build purego

package bench

import "runtime"

// setBLASThreads does nothing in the pure-Go build: gonum's BLAS splits its work over
// GOMAXPROCS goroutines, which Train sets.
func setBLASThreads(int) (previous int) { return runtime.GOMAXPROCS(0) }

// blasThreads is GOMAXPROCS, what gonum's BLAS uses.
func blasThreads() int { return runtime.GOMAXPROCS(0) }
