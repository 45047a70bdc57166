package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ssl4dp/ssl4dp/evaluate/features"
	"github.com/ssl4dp/ssl4dp/evaluate/linear"
	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/evaluate/retrieval"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// probeFlags are what both dense probes need: the encoder, the data and how features are
// computed and cached.
type probeFlags struct {
	Encoder    string `required:"" type:"path" placeholder:"ENCODER.onnx" help:"Frozen encoder: a pre-training run's encoder.onnx, 'ssl4dp export --what encoder', or a random-init reference from 'ssl4dp graphs --head none'. One image input [N,3,H,W]; dense features [N,C,h,w] are read from --output."`
	Data       string `required:"" placeholder:"SPEC" help:"Labelled dataset with train and val splits: voc:DIR, seg:DIR, synthetic[:k=v,...], cutpaste:... (see 'ssl4dp data --help')."`
	TrainSplit string `name:"train-split" default:"train" help:"Split the probe learns from (linear) or the memory bank is built from (retrieval)."`
	ValSplit   string `name:"val-split" default:"val" help:"Split that is scored."`
	Output     string `default:"features" help:"Encoder output to read: features (last stage, at the output stride) or low_level (layer1, stride 4)."`
	Size       int    `help:"Resize every image to SIZE×SIZE for the encoder (masks stay at their size; scores are counted on them). 0: whole images."`
	Batch      int    `default:"8" help:"Most images per forward pass."`
	Limit      int    `help:"Use only the first N images of each split (0: all)."`
	Cache      string `type:"path" placeholder:"DIR" help:"Keep the features in DIR, keyed by the encoder file's SHA-256, data, split, size and output: a later run with the same key skips the encoder."`
	Seed       uint64 `default:"1" help:"Seed (linear: the image order; retrieval: which patches a bounded bank keeps)."`
	Provider   string `default:"cpu" enum:"cpu,cuda" help:"onnxruntime execution provider: ${enum}."`
	OrtLib     string `name:"ort-lib" placeholder:"FILE" help:"onnxruntime shared library (default: $ONNXRUNTIME_SHARED_LIBRARY_PATH, the 'just setup' cache, then system folders)."`
	Threads    int    `default:"0" help:"onnxruntime intra-op threads (0: one per core)."`
	JSON       bool   `name:"json" help:"Print one JSON object instead of the table."`
}

func (f *probeFlags) options() (features.Options, error) {
	if f.Batch < 1 || f.Size < 0 || f.Limit < 0 || f.Threads < 0 {
		return features.Options{}, &evalUsageError{fmt.Sprintf("--batch %d, --size %d, --limit %d, --threads %d: want batch ≥ 1, the others ≥ 0", f.Batch, f.Size, f.Limit, f.Threads)}
	}
	return features.Options{Encoder: f.Encoder, Data: f.Data, Output: f.Output, Size: f.Size, Batch: f.Batch,
		Limit: f.Limit, Cache: f.Cache, OrtLib: f.OrtLib, Ort: ort.Options{Provider: f.Provider, Threads: f.Threads}}, nil
}

// probeReport is the --json output of both probes.
type probeReport struct {
	Protocol    string         `json:"protocol"` // "linear" or "retrieval"
	Encoder     string         `json:"encoder"`
	Data        string         `json:"data"`
	Output      string         `json:"output"`
	Input       string         `json:"input"` // "whole" or "SxS"
	Channels    int            `json:"channels"`
	TrainImages int            `json:"train_images"`
	ValImages   int            `json:"val_images"`
	Cached      [2]bool        `json:"cached"` // train, val features read from --cache
	Params      map[string]any `json:"params"`
	Classes     []string       `json:"classes"`
	Scores      metrics.Scores `json:"scores"`
	Confusion   [][]int64      `json:"confusion"` // [label][prediction] pixel counts
	Seconds     float64        `json:"seconds"`
}

func (f *probeFlags) report(r probeReport, conf *metrics.Confusion, start time.Time, detail string) error {
	r.Encoder, r.Data, r.Output, r.Input, r.Seconds = f.Encoder, f.Data, f.Output, "whole", time.Since(start).Seconds()
	if f.Size > 0 {
		r.Input = fmt.Sprintf("%dx%d", f.Size, f.Size)
	}
	for l := 0; l < conf.K; l++ {
		r.Confusion = append(r.Confusion, conf.Counts[l*conf.K:(l+1)*conf.K])
	}
	if f.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	cached := ""
	if r.Cached[0] && r.Cached[1] {
		cached = ", features from the cache"
	}
	fmt.Fprintf(stdout, "%s probe of %s (%s, %d channels) on %s: %d train, %d val images, input %s%s, %.1fs\n",
		r.Protocol, f.Encoder, f.Output, r.Channels, f.Data, r.TrainImages, r.ValImages, r.Input, cached, r.Seconds)
	fmt.Fprintf(stdout, "  %s\n", detail)
	fmt.Fprint(stdout, r.Scores.Table(r.Classes))
	return nil
}

// EvaluateLinearCmd is `ssl4dp evaluate linear`.
type EvaluateLinearCmd struct {
	probeFlags
	Epochs      int     `default:"30" help:"Passes over the cached train features (Adam with cosine decay; the problem is convex, so this is 'to convergence')."`
	ProbeBatch  int     `name:"probe-batch" default:"8" help:"Train images per optimiser step."`
	LR          float64 `name:"lr" default:"0.1" help:"Adam's peak learning rate (the features are BatchNorm-normalised)."`
	WeightDecay float64 `name:"weight-decay" default:"0" help:"L2 penalty on the 1×1 conv weights."`
}

// Help explains the protocol.
func (c *EvaluateLinearCmd) Help() string {
	return `Freezes the encoder, computes its dense features on the train and val splits once, trains a
1×1 convolution with BatchNorm on the train features (DINO/Leopart/NeCo's linear protocol),
upsamples its logits bilinearly to each mask and reports val mIoU. Plain Go on the CPU; the
same --seed gives the same numbers on any number of cores. See docs/protocols.md.

  ssl4dp evaluate linear --encoder run/encoder.onnx --data synthetic --cache ~/.cache/ssl4dp/features
  ssl4dp graphs --encoder resnet18 --head none -o random.onnx   # the random-init reference row`
}

// Run extracts, trains, scores and prints.
func (c *EvaluateLinearCmd) Run(*Globals) error {
	fo, err := c.options()
	if err != nil {
		return err
	}
	if c.Epochs < 1 || c.ProbeBatch < 1 || !(c.LR > 0) || c.WeightDecay < 0 {
		return &evalUsageError{fmt.Sprintf("--epochs %d, --probe-batch %d, --lr %v, --weight-decay %v: want epochs and batch ≥ 1, lr > 0, weight decay ≥ 0", c.Epochs, c.ProbeBatch, c.LR, c.WeightDecay)}
	}
	start := time.Now()
	res, err := linear.Evaluate(context.Background(), linear.Options{Features: fo, TrainSplit: c.TrainSplit, ValSplit: c.ValSplit,
		TrainOptions: linear.TrainOptions{Seed: c.Seed, Epochs: c.Epochs, Batch: c.ProbeBatch, LR: c.LR, WeightDecay: c.WeightDecay}})
	if err != nil {
		return err
	}
	r := probeReport{Protocol: "linear", Channels: res.Channels, TrainImages: res.TrainImages, ValImages: res.ValImages,
		Cached: res.Cached, Classes: res.Classes, Scores: res.Scores,
		Params: map[string]any{"epochs": c.Epochs, "batch": c.ProbeBatch, "lr": c.LR, "weight_decay": c.WeightDecay, "seed": c.Seed, "steps": res.Steps, "train_loss": res.TrainLoss}}
	return c.report(r, res.Confusion, start, fmt.Sprintf("1×1 conv + BatchNorm, %d epochs (%d Adam steps, lr %g), final train loss %.4f", c.Epochs, res.Steps, c.LR, res.TrainLoss))
}

// EvaluateRetrievalCmd is `ssl4dp evaluate retrieval`.
type EvaluateRetrievalCmd struct {
	probeFlags
	K           int     `name:"k" default:"30" help:"Nearest train patches per val patch (Hummingbird/NeCo: 30)."`
	Temperature float64 `default:"0.02" help:"Softmax temperature over the neighbours' cosine similarities (Hummingbird/NeCo: 0.02)."`
	BankSize    int     `name:"bank-size" default:"10240000" help:"Most patches in the memory bank (Hummingbird: 10,240,000); a smaller bank keeps ⌊size/images⌋ patches per train image, rare classes first. -1: every patch."`
}

// Help explains the protocol.
func (c *EvaluateRetrievalCmd) Help() string {
	return `Hummingbird's in-context scene understanding evaluation, as NeCo reports it: the train split's
patch features (L2-normalised) and their label distributions form a memory bank; each val patch
takes the softmax-weighted (--temperature) label distributions of its --k nearest bank patches by
cosine similarity, upsampled bilinearly to the mask; argmax; val mIoU. Nothing is trained; the
search is exact. See docs/protocols.md.

  ssl4dp evaluate retrieval --encoder run/encoder.onnx --data synthetic --cache ~/.cache/ssl4dp/features`
}

// Run extracts, retrieves, scores and prints.
func (c *EvaluateRetrievalCmd) Run(*Globals) error {
	fo, err := c.options()
	if err != nil {
		return err
	}
	if c.K < 1 || !(c.Temperature > 0) || c.BankSize == 0 || c.BankSize < -1 {
		return &evalUsageError{fmt.Sprintf("--k %d, --temperature %v, --bank-size %d: want k ≥ 1, temperature > 0, bank size ≥ 1 or -1 (all)", c.K, c.Temperature, c.BankSize)}
	}
	start := time.Now()
	res, err := retrieval.Evaluate(context.Background(), retrieval.Options{Features: fo, TrainSplit: c.TrainSplit, ValSplit: c.ValSplit,
		K: c.K, Temperature: c.Temperature, BankSize: c.BankSize, Seed: c.Seed})
	if err != nil {
		return err
	}
	r := probeReport{Protocol: "retrieval", Channels: res.Channels, TrainImages: res.TrainImages, ValImages: res.ValImages,
		Cached: res.Cached, Classes: res.Classes, Scores: res.Scores,
		Params: map[string]any{"k": res.K, "temperature": res.Temperature, "bank_size": c.BankSize, "bank_patches": res.BankPatches, "seed": c.Seed}}
	return c.report(r, res.Confusion, start, fmt.Sprintf("memory bank of %d train patches, k %d, temperature %g, exact cosine search", res.BankPatches, res.K, res.Temperature))
}
