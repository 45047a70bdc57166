// Package pretext holds the self-supervised pre-training methods of ssl4dp as train.Tasks:
// MoCo v2, SimCLR, BYOL and SimSiam (image level), and the dense methods PLR (patch-level
// rotation), EDMoCo (MoCo on an encoder-decoder), PLMoCo (patch-level MoCo, cells matched by
// the views' crop geometry) and PLEDMoCo (PLMoCo on the decoder's map). docs/methods.md gives
// each method's views, loss, defaults, sources and deviations.
//
// The simplest use trains a method with the engine:
//
//	c, _ := pretext.Defaults("moco", pretext.Paper)        // *MoCoConfig; change fields as needed
//	task, err := pretext.New("moco", pretext.Options{
//		Net:  pretext.Net{Encoder: graphs.ResNet50},          // output stride 16 by default
//		Size: 224, Seed: 1, Steps: iters,
//	}, c)
//	err = train.Run(ctx, task, train.Config{Dir: "runs/moco", Dataset: ds, Iters: iters, Batch: 256, …})
//	// runs/moco/encoder.onnx is the trained encoder, ready for `ssl4dp train seg --init`
//
// or from the command line, `ssl4dp train pretext` (Flags). Options.Init continues from any
// ONNX encoder whose initializer names follow torchvision's (an earlier run's encoder.onnx,
// a PyTorch export), loaded as `train seg --init` loads it.
//
// Each method is one file: it builds its networks with graphs, imports them with
// onnx/importer into one training graph (the online network the optimizer trains) and, for
// the momentum methods, a separate forward-only graph (the key or target network, updated by
// EMA), and builds its loss from the functions in loss_*.go, which are usable on their own
// (InfoNCE, DenseInfoNCE, NTXent, BYOLLoss, SimSiamLoss, RotationLoss). All state a method
// keeps — momentum network, queues — goes into Checkpoint and comes back with Restore, and
// every per-step random choice (key shuffles, cells enqueued) is a function of the seed and
// the step, so a resumed run is bit-identical to an uninterrupted one.
//
// # Errors
//
// Bad settings and files that do not fit (an unknown method, a batch that does not split
// into the key chunks, an --init file whose names match nothing) are *UsageError values
// (exit code 2 in the CLI); other failures are errors prefixed "pretext:". Nothing panics on
// bad input.
package pretext
