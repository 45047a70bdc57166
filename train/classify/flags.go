package classify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/checkpoint"
	"github.com/ssl4dp/ssl4dp/train/schedule"
)

// Flags are the command line of `ssl4dp train classify` (kong tags): the ImageNet recipe of
// torchvision's references/classification (SGD lr 0.1·B/256, momentum 0.9, weight decay
// 1e-4, random-resized crops and flips), with a cosine schedule.
type Flags struct {
	Encoder      string  `name:"encoder" default:"resnet50" enum:"resnet18,resnet34,resnet50" help:"ResNet encoder, torchvision's layout and parameter names (${enum})."`
	Width        float64 `name:"width" default:"1" help:"Multiplies every encoder width: 1 is the published network, 0.25 a quarter-width one for a CPU."`
	OutputStride int     `name:"output-stride" default:"32" help:"Encoder output stride while classifying: 32 (torchvision's network), 16 or 8 (dilated; the weights, and so encoder.onnx, are the same)."`
	Init         string  `name:"init" type:"existingfile" placeholder:"ENCODER.onnx" help:"Start from the initializers of this ONNX file, matched by name (a torchvision export, an earlier encoder.onnx). Without it the network is randomly initialised."`

	Data   string `name:"data" placeholder:"SPEC" help:"Labelled images (required unless resuming): folder:DIR with one sub-folder per class (ImageNet's layout: DIR/CLASS/*.jpg), or synthetic[:k=v,...], cutpaste:..., voc:DIR, seg:DIR, where an image's class is the most frequent object class of its mask."`
	Val    string `name:"val" placeholder:"SPEC" help:"Images to report top-1 accuracy on (the same classes): folder:DIR; default: the val split of a labelled --data, none for folder:; 'none' for no validation."`
	Epochs int    `name:"epochs" default:"90" help:"Passes over the data (torchvision's ImageNet recipe: 90); the run has epochs × ⌊images/batch⌋ steps."`
	Iters  int    `name:"iters" default:"0" help:"Optimizer steps instead of --epochs (0: from --epochs)."`
	Batch  int    `name:"batch" default:"256" help:"Images per step (torchvision: 32 per GPU × 8)."`
	Size   int    `name:"size" default:"224" help:"Side of the square random-resized crops in pixels (ImageNet: 224)."`

	schedule.Flags   `embed:""`
	train.OptimFlags `embed:"" kong:"set='weight_decay=0.0001',set='weight_decay_source=torchvision ImageNet recipe: 1e-4',set='heads=fc.'"`

	ValEvery        int    `name:"val-every" default:"0" help:"Steps between validations (0: only at the end)."`
	CheckpointEvery int    `name:"checkpoint-every" default:"1000" help:"Steps between checkpoints (one is always written at the end and on Ctrl-C)."`
	Keep            int    `name:"keep" default:"2" help:"Checkpoints kept."`
	Seed            uint64 `name:"seed" default:"1" help:"Seed of the initialisation, the data order and the augmentation: the same seed gives the same weights."`
	Workers         int    `name:"workers" default:"0" help:"Data loading goroutines (0: one per CPU); results do not depend on it."`
	Out             string `name:"out" required:"" placeholder:"RUN_DIR" help:"Run folder: config.json, metrics.jsonl, checkpoints/, and at the end model.onnx, encoder.onnx and run.json."`
	Resume          bool   `name:"resume" help:"Continue the run in --out from its latest checkpoint. Flags not given are taken from its config.json; only --iters, --val-every, --checkpoint-every, --keep, --workers, and the LR schedule and --max-grad-norm may change."`

	train.DeviceFlag `embed:""`
}

// Help is the long help of `ssl4dp train classify --help`.
func (f *Flags) Help() string {
	return `Supervised pre-training: trains an encoder and torchvision's classifier (global average
pool → fc) with cross-entropy on image labels and writes RUN_DIR/encoder.onnx (input →
features, low_level) for 'ssl4dp train seg --init' — the "Supervised" row of a grid, made
here instead of brought as a checkpoint.

Classes: with folder:DIR, DIR's first-level sub-folders (sorted; ImageNet's train/ layout);
with a labelled spec (synthetic, cutpaste:, voc:, seg:) each image's most frequent object
class in its mask (background when it shows none). Validation (top-1 as aAcc, the mean
over classes as mAcc) runs on --val, by default the labelled spec's val split.

Recipe (torchvision references/classification, ImageNet): SGD lr 0.1·B/256 unless --lr is
given, momentum 0.9, weight decay 1e-4, a cosine schedule unless --schedule is given
(torchvision's own is step ×0.1 every 30 of 90 epochs: --schedule step --milestones
0.333,0.667), random-resized crops (8–100% of the area, aspect 3/4–4/3) and flips. A
CPU-sized run on the cut-paste benchmark's object categories, then fine-tuning:

  ssl4dp train classify --encoder resnet18 --width 0.25 --size 64 --batch 32 --epochs 10 \
      --data synthetic --out runs/sup
  ssl4dp train seg --encoder resnet18 --width 0.25 --init runs/sup/encoder.onnx --data synthetic ...

Continue an interrupted run: ssl4dp train classify --resume --out runs/sup`
}

// Settings are what a run records as its task settings (config.json's "task").
type Settings struct {
	Method       string  `json:"method"` // "classify"
	Encoder      string  `json:"encoder"`
	Width        float64 `json:"width"`
	OutputStride int     `json:"output_stride"`
	Size         int     `json:"size"`
	Init         string  `json:"init,omitempty"`
	Val          string  `json:"val,omitempty"`
	Classes      int     `json:"classes"`
}

// DefaultLR is the ImageNet recipe's 0.1 at batch 256, scaled linearly to the batch.
func DefaultLR(batch int) float64 { return 0.1 * float64(batch) / 256 }

// Run trains as the flags say; given reports whether a flag was on the command line.
func (f *Flags) Run(ctx context.Context, log io.Writer, given func(name string) bool) error {
	if err := f.DeviceFlag.Check(); err != nil {
		return err
	}
	if given == nil {
		given = func(string) bool { return false }
	}
	if f.Resume {
		if err := f.fromSaved(given); err != nil {
			return err
		}
	}
	if f.Data == "" {
		return usagef("--data is required (e.g. --data folder:imagenet/train or --data synthetic)")
	}
	src, err := Open(f.Data, "train")
	if err != nil {
		return err
	}
	val, err := f.openVal(src)
	if err != nil {
		return err
	}
	iters := f.Iters
	if iters == 0 {
		per := src.Data.Len() / max(f.Batch, 1)
		if per == 0 {
			return usagef("--batch %d is larger than the %d images of %s; lower it", f.Batch, src.Data.Len(), src.Data.Name())
		}
		iters = f.Epochs * per
	}
	if !f.Resume {
		if !given("lr") {
			f.LR = DefaultLR(f.Batch)
		}
		if !given("schedule") {
			f.Schedule = string(schedule.Cosine)
		}
	}
	net := Net{Encoder: graphs.Encoder(f.Encoder), Width: f.Width, OutputStride: f.OutputStride}
	initFile := f.Init
	if _, _, err := checkpoint.Latest(f.Out); f.Resume && err == nil {
		initFile = "" // the checkpoint holds the weights
	}
	task, err := f.newTask(net, src, val, initFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "ssl4dp train classify %s\n", f.commandLine(iters))
	task.Describe(log)
	if initFile != "" {
		fmt.Fprint(log, task.InitReport())
	}
	settings := Settings{Method: "classify", Encoder: f.Encoder, Width: f.Width, OutputStride: f.OutputStride, Size: f.Size,
		Init: f.Init, Val: f.Val, Classes: len(src.Classes)}
	var t train.Task = task
	if val != nil {
		t = Validating{task}
	}
	return train.Run(ctx, t, train.Config{Dir: f.Out, Data: f.Data, Dataset: src.Data, Iters: iters, Batch: f.Batch,
		Seed: f.Seed, LR: f.Flags, Optim: f.OptimFlags.Config(), EncoderLRMult: f.EncoderLRMult,
		CheckpointEvery: f.CheckpointEvery, Keep: f.Keep, ValEvery: f.ValEvery, Resume: f.Resume, Workers: f.Workers,
		Settings: settings, Log: log})
}

func (f *Flags) newTask(net Net, src, val *Source, initFile string) (*Task, error) {
	if initFile == "" {
		return New(net, f.Size, int64(f.Seed), src, val, nil, "")
	}
	ip, err := onnx.ReadFile(initFile)
	if err != nil {
		return nil, err
	}
	return New(net, f.Size, int64(f.Seed), src, val, ip, initFile)
}

// openVal is the val source: --val, or the labelled --data's val split, or none.
func (f *Flags) openVal(src *Source) (*Source, error) {
	switch {
	case f.Val == "none":
		return nil, nil
	case f.Val != "":
		return Open(f.Val, "val")
	case src.byFolder:
		return nil, nil
	}
	v, err := Open(f.Data, "val")
	if err != nil {
		return nil, nil // a labelled spec without a val split: no validation
	}
	return v, nil
}

// fromSaved fills every flag not given from the run's config.json.
func (f *Flags) fromSaved(given func(string) bool) error {
	rc, err := train.ReadRunConfig(f.Out)
	if err != nil {
		return &train.UsageError{Msg: fmt.Sprintf("--resume: %v", err)}
	}
	var s Settings
	raw, _ := rc.Task.(json.RawMessage)
	if err := json.Unmarshal(raw, &s); err != nil || s.Method != "classify" {
		return &train.UsageError{Msg: fmt.Sprintf("--resume: %s/%s has no classify settings (a %s run?)", f.Out, train.ConfigFile, rc.Method)}
	}
	set := func(name string, apply func()) {
		if !given(name) {
			apply()
		}
	}
	set("encoder", func() { f.Encoder = s.Encoder })
	set("width", func() { f.Width = s.Width })
	set("output-stride", func() { f.OutputStride = s.OutputStride })
	set("size", func() { f.Size = s.Size })
	set("init", func() { f.Init = s.Init })
	set("val", func() { f.Val = s.Val })
	set("data", func() { f.Data = rc.Data })
	set("iters", func() { f.Iters = rc.Iters })
	set("batch", func() { f.Batch = rc.Batch })
	set("seed", func() { f.Seed = rc.Seed })
	set("checkpoint-every", func() { f.CheckpointEvery = rc.CheckpointEvery })
	set("keep", func() { f.Keep = rc.Keep })
	set("val-every", func() { f.ValEvery = rc.ValEvery })
	set("workers", func() { f.Workers = rc.Workers })
	f.Flags.FromSaved(rc.Schedule, set)
	f.OptimFlags.FromSaved(rc.Optimizer, set)
	return nil
}

// commandLine is the resolved command line.
func (f *Flags) commandLine(iters int) string {
	var c train.CommandLine
	c.Add("encoder", f.Encoder)
	c.Float("width", f.Width)
	c.Int("output-stride", f.OutputStride)
	if f.Init != "" {
		c.Add("init", f.Init)
	}
	c.Add("data", f.Data)
	if f.Val != "" {
		c.Add("val", f.Val)
	}
	c.Int("iters", iters)
	c.Int("batch", f.Batch)
	c.Int("size", f.Size)
	f.Flags.WriteArgs(c.Add)
	f.OptimFlags.WriteArgs(&c)
	c.Int("val-every", f.ValEvery)
	c.Add("seed", strconv.FormatUint(f.Seed, 10))
	c.Add("out", f.Out)
	if f.Resume {
		c.Switch("resume")
	}
	return c.String()
}
