//go:build !unix

package bench

// processCPU is not measured outside Unix; CPU-time summaries are then zero.
func processCPU() float64 { return 0 }
