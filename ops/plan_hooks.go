package ops

// The ops whose output is their kept buffer (outBuf), for the memory plan (plan.go). Each
// returns the one buffer its node writes; an op listed here never returns a view of an input,
// so the plan need not extend its inputs' lifetimes to its own.
//
// Kept in one file so the op files need no hook of their own.

func (op *bnOp) outBuffer() *outBuf          { return &op.buf }
func (op *bnDiffStatsOp) outBuffer() *outBuf { return &op.buf }
func (op *bnDiffXOp) outBuffer() *outBuf     { return &op.buf }
func (op *convOp) outBuffer() *outBuf        { return &op.buf }
func (op *convDiffXOp) outBuffer() *outBuf   { return &op.buf }
func (op *convDiffWOp) outBuffer() *outBuf   { return &op.buf }
func (op *matmulOp) outBuffer() *outBuf      { return &op.buf }
func (op *matmulDiffOp) outBuffer() *outBuf  { return &op.buf }
func (op *pointwiseOp) outBuffer() *outBuf   { return &op.buf }
func (op *avgPoolOp) outBuffer() *outBuf     { return &op.buf }
func (op *avgPoolDiffOp) outBuffer() *outBuf { return &op.buf }
func (op *maxPoolOp) outBuffer() *outBuf     { return &op.buf }
func (op *maxPoolDiffOp) outBuffer() *outBuf { return &op.buf }
func (op *reluOp) outBuffer() *outBuf        { return &op.buf }
func (op *reluDiffOp) outBuffer() *outBuf    { return &op.buf }

func (op chanSumOp) outBuffer() *outBuf       { return op.buf }
func (op arithOp) outBuffer() *outBuf         { return op.buf }
func (op arithDiffOp) outBuffer() *outBuf     { return op.buf }
func (op concatOp) outBuffer() *outBuf        { return op.buf }
func (op concatDiffOp) outBuffer() *outBuf    { return op.buf }
func (op dropoutOp) outBuffer() *outBuf       { return op.buf }
func (op dropoutDiffOp) outBuffer() *outBuf   { return op.buf }
func (op l2normOp) outBuffer() *outBuf        { return op.buf }
func (op l2normDiffOp) outBuffer() *outBuf    { return op.buf }
func (op padOp) outBuffer() *outBuf           { return op.buf }
func (op padDiffOp) outBuffer() *outBuf       { return op.buf }
func (op reduceOp) outBuffer() *outBuf        { return op.buf }
func (op reduceDiffOp) outBuffer() *outBuf    { return op.buf }
func (op resizeOp) outBuffer() *outBuf        { return op.buf }
func (op resizeDiffOp) outBuffer() *outBuf    { return op.buf }
func (op sliceOp) outBuffer() *outBuf         { return op.buf }
func (op sliceDiffOp) outBuffer() *outBuf     { return op.buf }
func (op softmaxOp) outBuffer() *outBuf       { return op.buf }
func (op softmaxDiffOp) outBuffer() *outBuf   { return op.buf }
func (op transposeOp) outBuffer() *outBuf     { return op.buf }
func (op transposeDiffOp) outBuffer() *outBuf { return op.buf }
func (op xentDiffOp) outBuffer() *outBuf      { return op.buf }

// xentOp's loss is a new scalar every run (nothing to plan), never a view of its logits.
func (op xentOp) outBuffer() *outBuf { return nil }
