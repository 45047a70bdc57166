// Package bench times ssl4dp's two hot paths and records where the numbers came from:
// inference of an ONNX model in onnxruntime (Infer, on the cpu or cuda provider) and one
// training step of a graphs/ network imported into Gorgonia (Train: forward, backward, SGD
// with momentum, for segmentation fine-tuning or any pretext method). `ssl4dp bench` and `ssl4dp bench train` are thin wrappers around them.
//
// The simplest use:
//
//	r, err := bench.Infer(bench.InferConfig{Model: "model.onnx", Batches: []int{1, 8}, Size: 512})
//	fmt.Println(r.Results[0].LatencyMS.P50, r.Results[0].ImagesPerS)
//
//	t, err := bench.Train(bench.TrainConfig{Method: "seg", Spec: graphs.Spec{Encoder: graphs.ResNet18,
//		OutputStride: 16, Head: graphs.HeadFCN, Classes: 21}, Batch: 8, Size: 128})
//	fmt.Println(t.StepS.P50, t.GFLOPPerS)
//
//	m, err := bench.Train(bench.TrainConfig{Method: "moco", Spec: graphs.Spec{Encoder: graphs.ResNet18}, Size: 64})
//
// # What is measured
//
// Every timed repetition (an onnxruntime Run, a training step) is timed on its own after
// the warm-up repetitions, and reported as a Summary: min, p50 (median), p90, p99, max, mean
// and standard deviation, percentiles by linear interpolation between order statistics
// (numpy's default). Throughput is images per second at the median: batch / p50. The
// process's CPU time (user + system, every thread) is summarised the same way: on a shared
// machine wall-clock times grow with the other jobs' load, CPU time much less.
//
// Memory is the process's resident set: the high-water mark VmHWM from /proc/self/status,
// reset (by writing 5 to /proc/self/clear_refs) just before each inference session is
// created or the training network is built, and the delta that the session or network added
// over the resident set measured at that moment. Host memory only: a CUDA session's device
// memory is not in it.
//
// A training step's floating-point work follows the usual convention: a backward pass
// costs twice its forward pass, so forward+backward is 3 × the forward multiply-adds, at 2
// flops each. The multiply-adds are counted on the step's forward graph before it is
// differentiated — every Conv2D and MatMul node, (output elements) × (weight elements per
// output channel) or × (inner dimension) — which for a graphs/ model is exactly
// graphs.Measure's count (Conv, Gemm and MatMul; BatchNorm, ReLU, resize and the loss are
// not counted). Nodes that depend on no trained parameter count once (forward-only), and a
// momentum network that a pretext method runs outside the graph (MoCo's key encoder, BYOL's
// target) counts once as much as the online network. GFLOP/s divides by the median step.
//
// Env records the machine (CPU model, CPU count, GPU name via nvidia-smi for cuda), the Go
// version, the commit the binary was built from, the date and the load average at the start
// and end: on a shared machine a high load average makes the numbers slower and wider, and
// the report says so rather than hiding it.
//
// # Methods
//
// Train times the training engine's own tasks (train.Task): "seg" is train/seg's fine-tuning
// task, the other names are train/pretext's methods at its CPU (or paper) scale. Each step
// runs as the engine runs it — bind, one tape machine for forward and backward, the SGD
// update (momentum 0.9, one group, no weight decay, as scripts/bench_torch.py), after-step
// work such as EMA and queue updates — on one batch built once by data's loader from noise
// images, so data loading is not timed.
//
// # Errors
//
// Bad settings (a batch of 0, an unknown method) are *ConfigError values (exit code 2 in the
// CLI); failures of onnxruntime or of the graph carry the package prefix "bench: " and name
// the model file or the network. Nothing panics on user input.
package bench
