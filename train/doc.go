// Package train runs training: the engine shared by segmentation fine-tuning (train/seg)
// and the pretext methods (train/pretext). A Task says what to optimise; the engine does
// the rest — data loading, SGD with parameter groups (train/optim), LR schedules
// (train/schedule), checkpoints that survive kills and full disks (train/checkpoint),
// resume that reproduces an uninterrupted run, SIGINT/SIGTERM handling, NaN/Inf detection,
// progress and metrics.jsonl (train/runlog).
//
// The simplest call trains a task for a number of steps in a run folder:
//
//	task, err := seg.New(seg.Config{Encoder: "resnet18", Width: 0.25, Head: "fcn", Crop: 64}, trainSet, valSet, os.Stderr)
//	err = train.Run(ctx, task, train.Config{Dir: "runs/seg", Data: "synthetic", Iters: 2000, Batch: 8,
//		LR: schedule.Flags{LR: 0.01, Schedule: "poly", Power: 0.9}})
//
// Config adds the optimizer (momentum, weight decay, Nesterov, clipping), the encoder's LR
// multiplier for tasks that are HeadPrefixers, the checkpoint and validation cadence, and
// Resume. Cancel ctx (the CLI does on SIGINT/SIGTERM) to stop after the current step with a
// checkpoint.
//
// # The run folder
//
//	RUN/config.json      the resolved settings (RunConfig); --resume compares against it
//	RUN/metrics.jsonl    one "train" record per step, one "val" record per validation
//	RUN/checkpoints/     step-NNNNNNNN/{model.onnx, … task files, optim.bin, state.json}, latest
//	RUN/model.onnx, …    the task's Outputs, written at the end
//	RUN/run.json         what a reader needs (RunInfo): method, data, classes, mean/std,
//	                     steps, seed, final validation scores; `ssl4dp export` reads it
//
// # A step
//
// Bind the batch (the task sets its inputs and Phase.Step), run the TapeMachine (forward and
// backward), read the loss and its parts, point the optimizer at this run's gradients (read
// anew every step: Gorgonia may hand out a new tensor), stop with a *NonFiniteError if the
// loss or any gradient is NaN or ±Inf — before the update, so the latest checkpoint is the
// last good state — then SGD at the schedule's LR for the step, AfterStep, log. The machine
// is built without gorgonia.BindDualValues: with it, v0.9.18 adds every run's gradient into
// the parameter's dual value, so gradients would accumulate across steps.
//
// # Determinism and resume
//
// The loader's batches depend only on (seed, epoch, position); random ops derive their
// randomness from (their seed, Phase.Step); the optimizer state and BatchNorm statistics
// are in the checkpoint. A run killed at any point and resumed from its latest checkpoint
// therefore ends with the same weights, bit for bit, as one that was never interrupted
// (same machine and BLAS). A resumed run may change only the iteration count and what does
// not touch the weights (validation and checkpoint cadence, kept checkpoints, workers);
// anything else is a *UsageError that names the field with both values.
//
// # Errors
//
// Run returns *UsageError for bad settings (exit code 2), *InterruptedError after a
// cancelled context (exit code 130), *NonFiniteError for NaN/Inf, and the task's, data's or
// disk's errors otherwise; a failed checkpoint says the previous one is intact. Errors start
// with "train:" and name the step, file or field.
package train
