package train

import (
	"io"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/train/optim"
	"github.com/ssl4dp/ssl4dp/train/schedule"
)

// Config is one training run's settings. Dir, Data (or Dataset), Iters and Batch are
// required; every other zero value takes the default its comment gives.
type Config struct {
	// Dir is the run folder: config.json, run.json, metrics.jsonl, checkpoints/ and the final
	// models are written there.
	Dir string
	// Data is the dataset spec (data.Open), recorded in config.json and run.json. The training
	// split is opened from it unless Dataset is given.
	Data    string
	Dataset data.Dataset

	Iters int    // optimizer steps in the run
	Batch int    // images per step
	Seed  uint64 // data order and augmentation (the task seeds its own initialisation)

	// LR is the learning-rate schedule as the command line gives it; the engine builds it
	// for Iters steps.
	LR schedule.Flags
	// Optim is SGD's momentum, weight decay, Nesterov and clipping.
	Optim optim.Config
	// EncoderLRMult scales the LR of every parameter outside the task's head prefixes
	// (HeadPrefixer); 0 means 1.
	EncoderLRMult float64

	CheckpointEvery int  // steps between checkpoints (0: 500); one is always written at the end
	Keep            int  // complete checkpoints kept (0: 2)
	ValEvery        int  // steps between validations of a Validator task (0: only at the end)
	Resume          bool // continue the run in Dir from its latest checkpoint
	Workers         int  // data loader goroutines (0: GOMAXPROCS); results do not depend on it
	// Device is where the steps run: "" or "cpu", or "emulated" (the test device of
	// ops/device: the CUDA kernels run by the emulator; train seg only).
	Device string
	// TF32 lets cuBLAS use TF32 tensor cores on the CUDA device (--tf32); the other devices
	// refuse it before a run starts (DeviceFlag).
	TF32 bool
	// NoMemoryPlan gives every op of a CPU step its own output buffer, as before the memory
	// plan (ops.PlanMemory): the same bits, more memory; for comparisons. MemoryPlan holds
	// the plan's options (tests break it on purpose). A device step is never planned.
	NoMemoryPlan bool
	MemoryPlan   ops.PlanOptions

	// Mean and Std are the input normalisation the data task applies (both zero:
	// data.ImageNetMean and data.ImageNetStd), recorded in run.json for export.
	Mean, Std [3]float32

	// Settings are the task's own settings (encoder, head, init file, …). They are recorded
	// in config.json as "task" and a resumed run must have the same ones.
	Settings any

	// Log receives the start-up summary, progress and messages (nil: os.Stderr).
	Log io.Writer
}

// Defaults used for zero fields.
const (
	DefaultCheckpointEvery = 500
	DefaultKeep            = 2
)

// withDefaults fills the zero fields that have defaults.
func (c Config) withDefaults() Config {
	if c.EncoderLRMult == 0 {
		c.EncoderLRMult = 1
	}
	if c.CheckpointEvery == 0 {
		c.CheckpointEvery = DefaultCheckpointEvery
	}
	if c.Keep == 0 {
		c.Keep = DefaultKeep
	}
	if c.Mean == ([3]float32{}) && c.Std == ([3]float32{}) {
		c.Mean, c.Std = data.ImageNetMean, data.ImageNetStd
	}
	return c
}

// check reports the first bad setting, naming its command-line flag.
func (c Config) check() error {
	switch {
	case c.Dir == "":
		return usageErrorf("no run folder (--out)")
	case c.Data == "" && c.Dataset == nil:
		return usageErrorf("no dataset (--data)")
	case c.Iters < 1:
		return usageErrorf("--iters %d, want at least 1", c.Iters)
	case c.Batch < 1:
		return usageErrorf("--batch %d, want at least 1", c.Batch)
	case c.CheckpointEvery < 1:
		return usageErrorf("--checkpoint-every %d, want at least 1", c.CheckpointEvery)
	case c.Keep < 1:
		return usageErrorf("--keep %d, want at least 1", c.Keep)
	case c.ValEvery < 0:
		return usageErrorf("--val-every %d, want ≥ 0 (0: only at the end)", c.ValEvery)
	case c.Workers < 0:
		return usageErrorf("--workers %d, want ≥ 0 (0: one per CPU)", c.Workers)
	case !(c.EncoderLRMult > 0) || c.EncoderLRMult > 1e6:
		return usageErrorf("--encoder-lr-mult %v, want a number > 0 (e.g. 0.01 to move the encoder 100× slower)", c.EncoderLRMult)
	}
	return nil
}
