// Package ops holds the Gorgonia operations ssl4dp needs that Gorgonia v0.9.18 lacks or gets
// wrong, each with its gradient, each checked against central finite differences
// (ops/gradcheck) in float64. The ONNX importer (onnx/importer) lowers ONNX nodes onto them,
// and the losses in train/ are built from them.
//
// The simplest use:
//
//	y, err := ops.Conv2D(x, w, b, ops.ConvParams{Stride: [2]int{2, 2}, Pads: [4]int{3, 3, 3, 3}})
//	y, err = ops.Resize2D(y, 128, 128, ops.Linear, ops.HalfPixel, ops.RoundPreferFloor)
//	loss, err := ops.SoftmaxCrossEntropy(y, labels, 255)
//
// # Conventions
//
//   - One op per file (op_<name>.go, with op_<name>_test.go beside it), following Gorgonia's
//     op_upsample.go: an exported constructor that checks its arguments and returns an error
//     naming the bad value, the forward op, and a separate diff op applied in SymDiff to
//     (inputs, output, output-gradient). DoDiff (ADOp) is not needed: ssl4dp runs TapeMachine
//     with symbolic gradients (gorgonia.Grad).
//   - Every op supports float32 and float64 tensors, written once with generics (type Float).
//   - Layout is NCHW. Shapes are static: a graph is built for one input shape.
//   - WriteHash includes every field that changes the output. Gorgonia merges nodes whose op
//     hash and children are equal; ops with state (BatchNorm, Dropout) hash a unique id so
//     two of them on the same input are never merged.
//   - Mode-dependent ops (BatchNorm, Dropout) read a shared *Phase at run time, so one graph
//     switches between training and evaluation without being rebuilt, and without losing
//     BatchNorm's running statistics.
//   - Heavy inner loops go through BLAS (gemm in base.go) where the maths allows: convolution
//     is im2col + GEMM, bilinear resize is two small interpolation-matrix products.
//   - Work is split across CPUs by the ops themselves (OpenBLAS runs single-threaded, see
//     internal/blas), always in pieces fixed by the shape and reduced in a fixed order, so
//     the same inputs give bit-identical results for any GOMAXPROCS (gemm.go, parallel.go).
//
// # Files and devices
//
//   - op_<name>.go: an op's Gorgonia side (constructor, shape, hash, SymDiff, Do) and its CPU
//     kernels, plain functions over slices. Shared helpers: util.go, values.go, outbuf.go,
//     gather.go, strided.go, gemm.go, parallel.go, scratch.go, geom.go, chansum.go.
//   - device_<family>.go: the same ops' kernels on a device (ops/device), launched from each
//     Do when its inputs are device tensors; device_support.go holds the dispatch helpers,
//     device_graph.go ToDevice. Host tensors never reach that code: the CPU path is unchanged.
//
// # Errors
//
// Constructors return errors (never panic on bad shapes or parameters); messages start with
// "ops:" and show what was given beside what was wanted.
package ops

// Phase is shared by the mode-dependent ops of one model. Flip Training between runs of the
// same machine to switch BatchNorm (batch vs running statistics) and Dropout (on vs identity).
//
// Step numbers the training step. Random ops (Dropout) derive each run's randomness from
// (their seed, Step) rather than from a stream that advances per run, so a run resumed from a
// checkpoint at step k draws exactly the masks an uninterrupted run would have. The training
// engine sets it before every run.
type Phase struct {
	Training bool
	Step     int64
}
