package ops

import G "gorgonia.org/gorgonia"

// Every forward op must stay differentiable through gorgonia.Grad (SDOp); a method lost in an
// edit would otherwise surface only as a panic inside Gorgonia's differentiation. (The part-B
// diff ops are not SDOps: nothing differentiates a gradient twice.)
var (
	_ G.SDOp = arithOp{}
	_ G.SDOp = chanSumOp{}
	_ G.SDOp = concatOp{}
	_ G.SDOp = dropoutOp{}
	_ G.SDOp = l2normOp{}
	_ G.SDOp = padOp{}
	_ G.SDOp = reduceOp{}
	_ G.SDOp = resizeOp{}
	_ G.SDOp = sliceOp{}
	_ G.SDOp = softmaxOp{}
	_ G.SDOp = transposeOp{}
	_ G.SDOp = xentOp{}
	_ G.SDOp = (*bnOp)(nil)
	_ G.SDOp = (*bnDiffStatsOp)(nil)
	_ G.SDOp = (*bnDiffXOp)(nil)
	_ G.SDOp = (*convOp)(nil)
	_ G.SDOp = (*convDiffXOp)(nil)
	_ G.SDOp = (*convDiffWOp)(nil)
	_ G.SDOp = (*matmulOp)(nil)
	_ G.SDOp = (*matmulDiffOp)(nil)
	_ G.SDOp = (*avgPoolOp)(nil)
	_ G.SDOp = (*avgPoolDiffOp)(nil)
	_ G.SDOp = (*maxPoolOp)(nil)
	_ G.SDOp = (*maxPoolDiffOp)(nil)
	_ G.SDOp = (*reluOp)(nil)
	_ G.SDOp = (*reluDiffOp)(nil)
)

// The part-A ops and Relu write into the machine's buffer when it offers one.
var (
	_ G.UsePreallocDoer = chanSumOp{}
	_ G.UsePreallocDoer = (*bnOp)(nil)
	_ G.UsePreallocDoer = (*bnDiffStatsOp)(nil)
	_ G.UsePreallocDoer = (*bnDiffXOp)(nil)
	_ G.UsePreallocDoer = (*convOp)(nil)
	_ G.UsePreallocDoer = (*convDiffXOp)(nil)
	_ G.UsePreallocDoer = (*convDiffWOp)(nil)
	_ G.UsePreallocDoer = (*matmulOp)(nil)
	_ G.UsePreallocDoer = (*matmulDiffOp)(nil)
	_ G.UsePreallocDoer = (*avgPoolOp)(nil)
	_ G.UsePreallocDoer = (*avgPoolDiffOp)(nil)
	_ G.UsePreallocDoer = (*maxPoolOp)(nil)
	_ G.UsePreallocDoer = (*maxPoolDiffOp)(nil)
	_ G.UsePreallocDoer = (*reluOp)(nil)
	_ G.UsePreallocDoer = (*reluDiffOp)(nil)
)
