// Package features runs a frozen encoder (an ONNX file such as a pre-training run's
// encoder.onnx) with onnxruntime over one split of a labelled dataset and returns its dense
// features, image by image, with the original masks. The dense evaluation protocols
// (evaluate/linear, evaluate/retrieval) read the train and val splits through it, so an
// encoder's features are computed once and the probes train on the cache.
//
// Images are prepared as `ssl4dp evaluate` prepares them (data.SegEval: the whole image, or
// resized to Size×Size; normalised with the encoder's metadata mean and std, or ImageNet's);
// images of one prepared size share a forward pass, up to Batch of them.
//
// With Options.Cache set, the result is stored in that folder under a key made of the
// encoder file's SHA-256, the data spec, the split, the prepared size, the output read, the
// limit and the normalisation: a second call with the same key reads the file and does not
// start onnxruntime; a changed encoder file has another hash and is computed afresh. Cache
// files are written atomically (internal/atomicfile), so a killed run leaves none half written.
// The key names the data by its spec, not its files: after changing a dataset's files in
// place, use another cache folder (or delete it).
//
// Errors start with "features:"; an encoder file that is not ONNX, or has no such output, is
// an *onnx.FormatError naming the file (CLI exit 2).
package features
