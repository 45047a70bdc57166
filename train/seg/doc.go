// Package seg is segmentation fine-tuning as a train.Task, and the flags of
// `ssl4dp train seg`.
//
//	task, err := seg.New(seg.Config{Encoder: graphs.ResNet50, OutputStride: 16, Head: graphs.HeadFCN,
//		Init: "encoder.onnx", Crop: 512, Seed: 1}, trainSet, valSet, os.Stderr)
//	err = train.Run(ctx, task, train.Config{…})
//
// The model is a fresh graphs/ network (encoder + head, logits resized to the input) or an
// ONNX segmentation model given with Config.Model. Config.Init loads any ONNX file's
// initializers by name and shape (LoadInit) — a graphs/ encoder, a pretext run's
// encoder.onnx, a torchvision export — and reports what was loaded, skipped for its shape,
// missing (random initialisation) or unused.
//
// The loss is per-pixel softmax cross-entropy with label 255 ignored, averaged over the
// counted pixels (PyTorch's F.cross_entropy(ignore_index=255); mmseg's default averages over
// all pixels instead). The training data is data.DefaultSegTrain(crop): mmseg's random
// rescale 0.5–2, crop with label padding, flip, ImageNet normalisation.
//
// Validation (ValidateScores) runs evaluate.Run — the protocol `ssl4dp evaluate` uses with
// onnxruntime — with an evaluation-mode import of the same model (BatchNorm running
// statistics), one graph per input shape, into which the current weights and statistics are
// copied before each validation. The tests check that onnxruntime on the saved model.onnx
// reproduces the logged mIoU.
//
// Parameters named head.* (graphs/) — or, for a --model file, every top-level name that is
// not part of a torchvision ResNet — form the head; the rest is the encoder, trained at
// --encoder-lr-mult times the LR.
//
// Errors start with "seg:"; requests the task cannot serve (an unlabelled dataset, a model
// for another class count, an --init file that matches nothing) are *InputError (exit code
// 2).
package seg
