package train

import (
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// Task is what a training run optimises: segmentation fine-tuning (train/seg) or one
// pretext method (train/pretext). The engine (Run) owns everything common to both — the
// data loader, the optimizer and its parameter groups, the LR schedule, checkpoints and
// resume, signals, NaN/Inf detection, progress and metrics.jsonl — and calls the task for
// what differs.
//
// Call order for one run:
//
//	DataTask                      once, to build the loader
//	Build(batch)                  once: import networks into one graph, build the loss
//	Restore(files)                when resuming, with the files Checkpoint wrote
//	for each step:
//	    Bind(batch, step)         set input values (gorgonia.Let) for this batch
//	    (engine runs the TapeMachine: forward + backward)
//	    (engine applies the optimizer to Learnables)
//	    AfterStep(step)           momentum-encoder EMA, queue update, …
//	Checkpoint()                  every N steps, at the end, and on SIGINT/SIGTERM
//	Outputs()                     at the end: the models the run hands on (encoder.onnx, …)
type Task interface {
	// Name is the method ("seg", "moco", "plmoco", …), written to logs and metadata.
	Name() string

	// DataTask says how a dataset sample becomes a batch item (views, augmentations,
	// labels) for this task.
	DataTask() data.Task

	// Build imports the task's networks for batches of the given size into one Gorgonia
	// graph and builds the scalar loss.
	Build(batch int) error

	// Graph is the expression graph Build made; the engine adds gradients and runs it.
	Graph() *G.ExprGraph

	// Loss is the scalar node to minimise. Parts returns named components for logging
	// (e.g. "global", "dense"); it may be empty.
	Loss() *G.Node
	Parts() map[string]*G.Node

	// Learnables are the trained parameters, named by their ONNX initializer names (the
	// engine's parameter groups match these names, e.g. "head." for --encoder-lr-mult).
	// Frozen parameters and momentum-encoder copies are not listed.
	Learnables() []importer.Param

	// Bind sets the graph's inputs from a batch before step runs.
	Bind(b *data.Batch, step int) error

	// AfterStep runs after the optimizer update of step (EMA of a key encoder, enqueue…).
	AfterStep(step int) error

	// Checkpoint returns the files that, with the optimizer and engine state, let Restore
	// continue the run exactly: at least "model.onnx" (the written-back trained network);
	// methods add their own (the key encoder, the queue).
	Checkpoint() (map[string][]byte, error)

	// Restore loads what Checkpoint wrote, into the networks Build made.
	Restore(files map[string][]byte) error

	// Outputs are the files the finished run hands on, by file name: "model.onnx" always;
	// pretext methods add "encoder.onnx" (and "decoder.onnx" for the encoder-decoder
	// methods), ready for `train seg --init`.
	Outputs() (map[string][]byte, error)
}

// Validator is implemented by tasks that can score the model during training (segmentation:
// mIoU on the val split). The engine calls it every --val-every steps and at the end, and
// logs the result to metrics.jsonl.
type Validator interface {
	Validate() (map[string]float64, error)
}

// ScoreValidator is a Validator that also gives the full segmentation scores (per-class IoU
// and accuracy), which the engine then logs to metrics.jsonl whole. The engine calls
// ValidateScores instead of Validate when a task has it.
type ScoreValidator interface {
	Validator
	ValidateScores() (metrics.Scores, error)
}

// HeadPrefixer is implemented by tasks whose parameters split into new heads and an
// encoder: parameters whose names start with one of the prefixes (e.g. "head.",
// "projector.") train at the schedule's LR, all others at LR × Config.EncoderLRMult
// (--encoder-lr-mult). Without it every parameter trains at the schedule's LR.
type HeadPrefixer interface {
	HeadPrefixes() []string
}

// Monitorer is implemented by tasks that report health numbers beside the loss (a pretext
// method's accuracy at its own task, or its outputs' spread). The engine calls Monitors after
// each step's forward and backward pass and before the update, writes the values to
// metrics.jsonl ("monitors") and shows those marked Line on the progress line. Monitors must
// only read values the pass computed: they may not change the loss or its gradients.
type Monitorer interface {
	Monitors() ([]runlog.Monitor, error)
}
