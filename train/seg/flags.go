package seg

import (
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/checkpoint"
	"github.com/ssl4dp/ssl4dp/train/schedule"
)

// Flags are the command line of `ssl4dp train seg` (kong tags). The defaults are
// MMSegmentation's PASCAL VOC recipe (configs/_base_/schedules/schedule_20k.py and
// datasets/pascal_voc12_aug.py) with MoCo's FCN head at output stride 16.
type Flags struct {
	Encoder      string  `name:"encoder" default:"resnet50" enum:"resnet18,resnet34,resnet50" help:"ResNet encoder, torchvision's layout and parameter names (${enum})."`
	Width        float64 `name:"width" default:"1" help:"Multiplies every encoder and head width: 1 is the published network, 0.25 a quarter-width one that trains on a laptop CPU."`
	OutputStride int     `name:"output-stride" default:"16" help:"Encoder output stride: 16 (layer4 dilated, MoCo's FCN recipe) or 8 (layers 3 and 4 dilated, mmseg's d8 models; about 4x the cost)."`
	Head         string  `name:"head" default:"fcn" enum:"fcn,psp,deeplabv3plus,nonlocal" help:"Segmentation head (${enum}): fcn is MoCo's FCN (two 3x3 convs, dilation 6), the others follow mmseg's PSPHead, DepthwiseSeparableASPPHead and NLHead."`
	Init         string  `name:"init" type:"existingfile" placeholder:"ENCODER.onnx" help:"Start from the initializers of this ONNX file, matched by name and shape (a graphs/ encoder, a pretext run's encoder.onnx, or a torchvision export from scripts/export_torchvision.py); a summary of loaded, skipped and missing names is printed. Without it the encoder is randomly initialised."`
	external     bool    // set by resolveFeatures: --init is the encoder itself
	Features     string  `name:"features" placeholder:"TENSOR" help:"With --init of a non-ResNet classification network (ConvNeXt, EfficientNet, MobileNet, RegNet, ViT; docs/import.md): the tensor that is the encoder's dense output, under --head. Default: the last map before global pooling, or a ViT's patch tokens as a grid; 'ssl4dp inspect X.onnx --check' lists the candidates with their strides."`
	Model        string  `name:"model" type:"existingfile" placeholder:"SEG.onnx" help:"Fine-tune this ONNX segmentation model (input [N,3,H,W], logits [N,K,H,W]) instead of building --encoder/--head."`

	Data   string `name:"data" placeholder:"SPEC" help:"Dataset (required unless resuming): voc:DIR, seg:DIR, synthetic[:k=v,...] or cutpaste:...; trains on its train split, validates on val."`
	Iters  int    `name:"iters" default:"20000" help:"Optimizer steps (mmseg VOC: 20000 or 40000)."`
	Batch  int    `name:"batch" default:"16" help:"Crops per step (mmseg: 4 per GPU x 4 GPUs)."`
	Crop   int    `name:"crop" default:"512" help:"Training crop side after a random rescale by 0.5-2x and a flip (mmseg VOC: 512)."`
	Labels string `name:"labels" default:"all" placeholder:"FRACTION|N" help:"Fine-tune on part of the labelled train split: a fraction (1/8, 0.125: ⌊fraction × images⌋) or a number of images, chosen by --seed and the split's size only, so every run at a seed uses the same images (and a seed's 1/16 lies inside its 1/8); validation still uses the whole val split. Default: ${default}."`

	schedule.Flags `embed:""`
	// The SGD flags, shared with train pretext; mmseg's VOC weight decay is the default here.
	train.OptimFlags `embed:"" kong:"set='weight_decay=0.0005',set='weight_decay_source=mmseg VOC: 5e-4',set='heads=head.*'"`

	ValEvery        int `name:"val-every" default:"2000" help:"Steps between validations (mIoU on the val split); 0: only at the end."`
	ValBatch        int `name:"val-batch" default:"1" help:"Validation images per forward pass (only images of one size share one)."`
	ValSize         int `name:"val-size" default:"0" help:"Resize validation images to this square side (0: whole images at their own size, as mmseg's VOC test)."`
	ValLimit        int `name:"val-limit" default:"0" help:"Validate on the first N val images only (0: all)."`
	CheckpointEvery int `name:"checkpoint-every" default:"1000" help:"Steps between checkpoints (one is always written at the end and on Ctrl-C)."`
	Keep            int `name:"keep" default:"2" help:"Checkpoints kept."`

	Seed    uint64 `name:"seed" default:"1" help:"Seed of the parameter initialisation, the data order and the augmentation: the same seed gives the same weights."`
	Workers int    `name:"workers" default:"0" help:"Data loading goroutines (0: one per CPU); results do not depend on it."`
	Out     string `name:"out" required:"" placeholder:"RUN_DIR" help:"Run folder: config.json, metrics.jsonl, checkpoints/, and at the end model.onnx and run.json."`
	Resume  bool   `name:"resume" help:"Continue the run in --out from its latest checkpoint. Flags not given are taken from its config.json; only --iters, --val-every, --checkpoint-every, --keep, --workers, and the LR schedule (--lr, --schedule, …) and --max-grad-norm may change (a change is printed and recorded in run.json)."`

	train.DeviceFlag `embed:""`
}

// Help is the long help of `ssl4dp train seg --help`.
func (f *Flags) Help() string {
	return `Fine-tunes an encoder + segmentation head with per-pixel cross-entropy (label 255
ignored; mean over the counted pixels) and reports mIoU on the val split.

The defaults are MMSegmentation's PASCAL VOC recipe: SGD lr 0.01, momentum 0.9, weight
decay 5e-4, poly schedule (power 0.9) down to --final-lr 1e-4 (train seg's default; mmseg's
eta_min), batch 16, 512x512 crops of images rescaled by 0.5-2x with random flips, 20000
steps, ImageNet normalisation; MoCo's FCN head at output stride 16. A CPU-sized run:

  ssl4dp train seg --encoder resnet18 --width 0.25 --data synthetic --crop 64 --batch 8 \
      --iters 2000 --val-every 500 --out runs/seg

Continue an interrupted run (Ctrl-C saves a checkpoint first): ssl4dp train seg --resume --out runs/seg`
}

// Run trains as the flags say. given reports whether a flag (by name, e.g. "iters") was on
// the command line: when resuming, the others come from the run's config.json. ctx
// cancelled (SIGINT) stops the run after a checkpoint.
func (f *Flags) Run(ctx context.Context, log io.Writer, given func(name string) bool) error {
	if err := f.DeviceFlag.CheckDeviceLayer(log); err != nil {
		return err
	}
	if f.Resume {
		rc, err := train.ReadRunConfig(f.Out)
		if err != nil {
			return &train.UsageError{Msg: fmt.Sprintf("--resume: %v", err)}
		}
		if err := f.fromSaved(rc, given); err != nil {
			return err
		}
	}
	if f.Data == "" {
		return inputErrorf("--data is required (e.g. --data synthetic or --data voc:/data/VOC2012)")
	}
	if f.FinalLR == nil {
		if kind, err := schedule.ParseKind(f.Schedule); err == nil && kind != schedule.Step && kind != schedule.Constant && f.LR > 1e-4 {
			v := 1e-4 // mmseg's eta_min for the VOC poly schedule
			f.FinalLR = &v
		}
	}
	labels, err := data.ParseLabels(f.Labels)
	if err != nil {
		return &train.UsageError{Msg: err.Error()}
	}
	trainSet, err := data.Open(f.Data, data.Options{Split: "train"})
	if err != nil {
		return err
	}
	if trainSet, err = data.Subset(trainSet, labels, f.Seed); err != nil {
		return &train.UsageError{Msg: err.Error()}
	}
	val, err := data.Open(f.Data, data.Options{Split: "val"})
	if err != nil {
		return err
	}
	cfg := Config{Encoder: graphs.Encoder(f.Encoder), Width: f.Width, OutputStride: f.OutputStride, Head: graphs.Head(f.Head),
		Model: f.Model, Init: f.Init, Crop: f.Crop, Seed: int64(f.Seed), ValBatch: f.ValBatch, ValSize: f.ValSize, ValLimit: f.ValLimit}
	if !labels.All() {
		cfg.Labels = labels.String()
	}
	if f.Model != "" {
		cfg.Encoder, cfg.Width, cfg.OutputStride, cfg.Head = "", 0, 0, ""
	}
	if err := f.resolveFeatures(&cfg); err != nil {
		return err
	}
	fmt.Fprintf(log, "ssl4dp train seg %s\n", f.commandLine())
	if !labels.All() {
		fmt.Fprintf(log, "labelled images: %s\n", trainSet.Name())
	}
	build := cfg
	if _, _, err := checkpoint.Latest(f.Out); f.Resume && err == nil && cfg.Features == "" {
		build.Init = "" // the checkpoint holds the weights; the --init file need not exist any more
	}
	task, err := New(build, trainSet, val, log)
	if err != nil {
		return err
	}
	return train.Run(ctx, task, train.Config{Dir: f.Out, Data: f.Data, Dataset: trainSet, Iters: f.Iters, Batch: f.Batch,
		Seed: f.Seed, LR: f.Flags, Optim: f.OptimFlags.Config(), EncoderLRMult: f.EncoderLRMult,
		CheckpointEvery: f.CheckpointEvery, Keep: f.Keep, ValEvery: f.ValEvery, Resume: f.Resume, Workers: f.Workers,
		Device: f.Device, TF32: f.TF32, Settings: cfg, Log: log})
}

// commandLine is the resolved command line, so that every run says exactly what it did.
func (f *Flags) commandLine() string {
	var c train.CommandLine
	if f.Model != "" {
		c.Add("model", f.Model)
	} else if f.external {
		c.Add("head", f.Head)
	} else {
		c.Add("encoder", f.Encoder)
		c.Float("width", f.Width)
		c.Int("output-stride", f.OutputStride)
		c.Add("head", f.Head)
	}
	if f.Init != "" {
		c.Add("init", f.Init)
	}
	if f.Features != "" {
		c.Add("features", f.Features)
	}
	c.Add("data", f.Data)
	c.Int("iters", f.Iters)
	c.Int("batch", f.Batch)
	c.Int("crop", f.Crop)
	if l, err := data.ParseLabels(f.Labels); err == nil && !l.All() {
		c.Add("labels", l.String())
	}
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
