// Package export turns a trained network into an inference model that anyone with
// onnxruntime can run, and proves it before handing it over: onnxruntime's output on a seeded
// input must equal what Gorgonia computes with the trained network in evaluation mode.
//
// The simplest use, from a run folder written by `ssl4dp train`:
//
//	src, err := export.Open("runs/seg")               // model.onnx (or the latest checkpoint's) + run.json
//	info, err := src.Info()                           // method, data, classes, normalisation, steps
//	res, err := export.Export(src.Model, export.Options{Info: info, Dynamic: true})
//	err = onnx.WriteFile("seg.onnx", res.Model)        // atomic: a failed write keeps the old file
//
// Options choose the output (Seg logits, Seg with Argmax labels, or the Encoder's features),
// dynamic or fixed N/H/W, the opset (13–17) and BatchNorm folding. Export keeps only the nodes
// the output needs (dropping projectors, predictors, rotation and dense heads and any other
// output), puts BatchNorm and Dropout in inference form (importer.InferenceForm), folds
// BatchNorm into the preceding convolutions when asked (exact formula in foldBatchNorm),
// converts the opset, fixes or frees the input shape, appends ArgMax, checks, then declares the
// output's shape and writes metadata (package modelinfo) into metadata_props.
//
// # Verification
//
// Every export is checked at its own input shape (and a dynamic one also at a second batch
// and size): the reference is the importer (Gorgonia, float32, evaluation mode) on the
// trained network restricted to the output's nodes, before any rewrite; the export runs in
// onnxruntime. The largest difference, relative to the largest reference magnitude, must be
// at most Options.Tol (1e-4). With Argmax, every label must be the argmax of the reference
// logits except at near-ties. A failed check is a *VerifyError and no model is returned, so
// the CLI never writes it.
//
// # Errors
//
// Bad options are *OptionsError values (CLI exit code 2), files that are not what they
// should be *onnx.FormatError values; every error starts with "export:" and names the node,
// tensor or file.
package export
