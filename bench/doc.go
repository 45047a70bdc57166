// Package bench times ssl4dp's two hot paths and records where the numbers came from:
// inference of an ONNX model in onnxruntime (Infer, on the cpu or cuda provider) and one
// training step of a graphs/ network through the importer (Train: forward, backward, SGD
// with momentum). `ssl4dp bench` and `ssl4dp bench train` are thin wrappers around them.
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
// flops each — counted from the graph by graphs.Measure (Conv, Gemm and MatMul nodes only;
// BatchNorm, ReLU, resize and the loss are not counted). GFLOP/s divides that by the median
// step time. Work carries the counts, including networks a method runs only forward (a
// momentum encoder), which count once.
//
// Env records the machine (CPU model, CPU count, GPU name via nvidia-smi for cuda), the Go
// version, the commit the binary was built from, the date and the load average at the start
// and end: on a shared machine a high load average makes the numbers slower and wider, and
// the report says so rather than hiding it.
//
// # Methods
//
// Train times a Step: the part of train.Task that one training step needs, so any task of
// the training engine (segmentation fine-tuning, a pretext method) can be timed once it is
// added to Methods. The built-in "seg" step is graphs' encoder + segmentation head with
// cross-entropy (ignore 255) on one batch of synthetic scenes built by data's loader.
//
// # Errors
//
// Bad settings (a batch of 0, an unknown method) are *ConfigError values (exit code 2 in the
// CLI); failures of onnxruntime or of the graph carry the package prefix "bench: " and name
// the model file or the network. Nothing panics on user input.
package bench
