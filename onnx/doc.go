// Package onnx reads, checks and writes ONNX models, and converts tensors between ONNX's
// TensorProto and Go slices. It is the one place where bytes become a model.
//
// The simplest use:
//
//	m, err := onnx.ReadFile("resnet18.onnx") // validated: never a half-read model
//	w, err := onnx.Floats(onnx.Initializer(m.Graph, "conv1.weight"))
//	err = onnx.WriteFile("copy.onnx", m)     // atomic: temp file, fsync, rename
//
// The protobuf types live in the generated package onnxpb (see onnxpb/gen.sh).
//
// Error policy: every function that can fail on user input returns an error (never panics);
// errors about a file are *FormatError values that name the file and say what is wrong.
// Models are written with IR version 8 and the opset the caller chose (13–17); older models
// are read as long as their IR version and opset are ones onnxruntime also reads.
package onnx
