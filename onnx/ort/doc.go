// Package ort runs ONNX models with onnxruntime: it finds the shared library, loads models
// into sessions on the CPU or CUDA provider, and moves tensors between Go slices and
// onnxruntime. evaluate, bench, export's verification and the tests use it.
//
// The simplest use:
//
//	s, err := ort.NewSessionFile("model.onnx", ort.Options{}) // CPU; finds the library itself
//	defer s.Close()
//	out, err := s.Run(map[string]ort.Tensor{
//		"input": {Shape: []int64{1, 3, 224, 224}, Data: pixels}, // pixels []float32
//	})
//	logits := out["output"].Data.([]float32)
//
// The library is found by LibraryPath: --ort-lib, then $ONNXRUNTIME_SHARED_LIBRARY_PATH, then
// the cache `just setup` fills (the CPU build from the npm package onnxruntime-node), then the
// system's library folders. A command with an --ort-lib flag calls Init(flag) before its first
// session; otherwise the first session calls Init(""). For Provider "cuda" the library must be
// a GPU build; a CPU-only library gives an error that says so, not a crash.
//
// Error policy: nothing panics on user input. Errors start with "ort: ", name the model file,
// and wrap onnxruntime's own message; inputs whose name, element type or shape disagree with
// the model are reported (got vs want) before onnxruntime is called. Models are decoded with
// onnx.Decode first, so a file that is not an ONNX model — or one the onnx package refuses,
// such as an opset below onnx.MinOpset — gives its *onnx.FormatError (exit code 2 in the CLI).
package ort
