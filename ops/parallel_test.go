package ops

import "testing"

// The test inputs are too small to be split across CPUs; run the forward and gradient checks
// again with every loop split, so the chunked loops are checked too (and raced, under -race).
func TestParallelSplit(t *testing.T) {
	saved := minParallelWork
	minParallelWork = 0
	defer func() { minParallelWork = saved }()
	t.Run("golden", TestGoldenPyTorch)
	t.Run("conv", TestConv2DGradients)
	t.Run("pool", TestPoolGradients)
	t.Run("batchnorm", TestBatchNormGradients)
	t.Run("adaptive", TestAdaptiveAvgPool)
}
