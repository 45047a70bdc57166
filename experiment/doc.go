// Package experiment runs a declarative grid of pre-training rows × segmentation heads ×
// seeds and renders the table that answers ssl4dp's question — does a dense pretext task
// improve segmentation over image-level self-supervision? — in the seed's layout:
// pre-training | epochs | head | mIoU (mean ± std over seeds) | note.
//
// The simplest use runs a grid file into a folder:
//
//	g, err := experiment.Load("experiments/cpu.toml")
//	p, err := g.Plan(experiment.PlanOptions{})
//	res, err := experiment.Run(ctx, p, experiment.Options{Out: "runs/cpu"})
//	// runs/cpu/results.md, runs/cpu/results.png; res.Table holds the numbers
//
// `ssl4dp experiment FILE` is the command-line front.
//
// # The grid file (TOML)
//
//	title = "CPU-scale grid"
//	data  = "synthetic:classes=3"        # fine-tuning and evaluation data; ${VAR} expanded
//	seeds = [1, 2, 3]
//
//	[pretrain]                           # `ssl4dp train pretext` flags for every stage
//	encoder = "resnet18"
//	width = 0.25
//	size = 64
//
//	[finetune]                           # `ssl4dp train seg` flags for every cell
//	encoder = "resnet18"
//	iters = 600
//
//	[[head]]                             # one per head: a name and train seg flags
//	name = "MoCoFCN"
//	head = "fcn"
//
//	[[row]]
//	name = "RandomInit"                  # no stages: fine-tuning from random initialisation
//
//	[[row]]
//	name = "MoCo v2"
//	stages = [{ method = "moco", epochs = 20 }]
//
//	[[row]]
//	name = "MoCo + PLMoCo"
//	from = "MoCo v2"                      # the MoCo v2 row's stages first, then these
//	stages = [{ method = "plmoco", epochs = 10, lr = 0.01 }]
//
//	[[row]]
//	name = "Supervised"
//	init = ""                             # a checkpoint; "" skips the row with a note, unless
//	stages = [{ method = "classify" }]    # its stages start with classify: they then run
//	                                      # (`train classify`), and a given checkpoint replaces them
//
// Flag tables use the commands' flag names as keys; Parse runs every merged set through the
// commands' own flag structs (pretext.Flags, classify.Flags, seg.Flags) and kong, so a grid means exactly
// what the command line means and an unknown flag is an error. The experiment sets init,
// seed, out and resume itself (and data for fine-tuning). A row's stages run in order, each
// continuing from the previous stage's encoder.onnx; fine-tuning loads the last one's
// encoder.onnx, or decoder.onnx with transfer = "decoder".
//
// # Folders and resuming
//
// Every stage and cell is a run folder named by a key: a hash of everything that decides its
// weights — its flags, its seed and what it starts from (the previous stage's key, or the
// init file's content). Rows whose chains share a prefix therefore share those stage
// folders, and each runs once per seed. A folder is finished when its done.json completion
// record exists; done.json is written atomically after every output (encoder.onnx for a
// stage; the exported model.onnx and eval.json for a cell), so a finished folder is never run
// again. An interrupted one (Ctrl-C, a kill, a full disk) holds the engine's checkpoints and
// continues with the engine's --resume, bit for bit as if never stopped. Changing a setting
// changes the key, so it gets a new folder instead of a wrong reuse.
//
//	OUT/plan.json                            which folder is which stage or cell
//	OUT/stages/<method>-s<seed>-<key>/       train pretext's run folder + curves.png, done.json
//	OUT/cells/<row>/<head>/s<seed>-<key>/    train/ (train seg's run folder), model.onnx (the
//	                                         export), eval.json, overlays/, curves.png, done.json
//	OUT/results.md, OUT/results.png          rewritten after every cell
//
// # Running side by side
//
// Options.Jobs (`ssl4dp experiment --jobs`, default 2 there and in the demo) runs up to that
// many stages and cells at once, each as soon as the stage it reads has finished, the
// earliest in plan order first; with 1 they run one after another in plan order. At CPU
// scale one run keeps about one core busy (most ops are too small to split), so two runs
// use two cores. Every run's weights depend only on its seed and inputs — the loader's order
// and the ops' work splits do not depend on timing or GOMAXPROCS — so the results are the
// same bits for any Jobs. The log shows each run's output whole, in plan order: the earliest
// unfinished run writes through, the others are held until their turn.
//
// # On a Slurm cluster
//
// Submit (`ssl4dp experiment FILE --slurm`, docs/cluster.md) makes every stage and cell one
// sbatch job in the shared folder that runs RunOnly through `ssl4dp experiment FILE --out DIR
// --only ID` — the code Run runs, so the same bits — with --dependency=afterok on the job of
// the stage it starts from, and a report job afterany on every cell that calls Report (one
// writer of results.md, no race between cells). Jobs go in with --kill-on-invalid-dep=yes, so
// a failed job's dependants end CANCELLED instead of pending forever. OUT/slurm/jobs.json
// records each folder's latest job; submitting again reads it, squeue and the done.json
// records, keeps what is finished or queued and submits the rest (SlurmStatus says which is
// which). Resources come from the grid's [slurm] table, per kind of job:
//
//	[slurm]                              # every job: partition, account, time, gpus-per-job
//	partition = "gpu"                    # (--gres=gpu:N), cpus-per-task, mem, sbatch-args
//	gpus-per-job = 1
//	[slurm.stage]                        # over it for pre-training; also [slurm.cell] and
//	time = "3-00:00:00"                  # [slurm.report]
//
// The Slurm interface is what the backend runs (sbatch, squeue, sacct, scancel), so that
// tests check the submitted scripts and dependencies against a fake; SlurmCommands is the
// real one.
//
// # Scores
//
// A cell's mIoU is its exported model (export.Export: dynamic shape, checked against
// Gorgonia) evaluated with onnxruntime on the val split through evaluate.Run with the
// defaults of `ssl4dp evaluate` — the same number `ssl4dp evaluate --model
// CELL/model.onnx --data DATA` prints.
//
// # Errors
//
// A grid that cannot be used as written is a *GridError (exit code 2) naming the file, row,
// head or stage; training errors are the engine's (an interrupted run is
// *train.InterruptedError).
package experiment
