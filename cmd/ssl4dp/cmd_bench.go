package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"

	"github.com/ssl4dp/ssl4dp/bench"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/pretext"
)

// BenchCmd times inference (the default: `ssl4dp bench --model m.onnx`) or one training
// step (`ssl4dp bench train`); package bench does the work.
type BenchCmd struct {
	Infer BenchInferCmd `cmd:"" default:"withargs" help:"Time onnxruntime inference of a model (the default: 'ssl4dp bench --model m.onnx')."`
	Train BenchTrainCmd `cmd:"" help:"Time one training step (forward, backward, SGD momentum update) of a graphs/ network through the importer."`
}

// BenchInferCmd is `ssl4dp bench [infer]`.
type BenchInferCmd struct {
	Model    string `required:"" type:"path" placeholder:"FILE.onnx" help:"The ONNX model to run."`
	Provider string `default:"cpu" enum:"cpu,cuda" help:"onnxruntime execution provider: ${enum}. cuda needs a GPU build of onnxruntime (--ort-lib)."`
	OrtLib   string `name:"ort-lib" type:"path" placeholder:"FILE" help:"onnxruntime shared library (default: $ONNXRUNTIME_SHARED_LIBRARY_PATH, the 'just setup' cache, then system folders)."`
	Device   int    `default:"0" help:"CUDA device number (with --provider cuda)."`
	Batch    []int  `default:"1" sep:"," placeholder:"N,N,..." help:"Batch sizes to time, for models with a dynamic batch axis."`
	Size     int    `default:"512" help:"Side of the square input, for models with dynamic spatial axes."`
	Threads  int    `default:"0" help:"onnxruntime intra-op threads (0: one per CPU)."`
	Warmup   int    `default:"3" help:"Untimed runs per batch size before timing."`
	Runs     int    `default:"20" help:"Timed runs per batch size."`
	Seed     int64  `default:"1" help:"Seed of the random input."`
	JSON     bool   `name:"json" help:"Print one JSON object instead of the table."`
	Report   string `type:"path" placeholder:"FILE.json" help:"Also write the JSON report to this file."`
}

// Run times the model and prints the report.
func (c *BenchInferCmd) Run(*Globals) error {
	// bench.InferConfig reads 0 as "the default"; on the command line 0 is a mistake.
	if err := positive(map[string]int{"--size": c.Size, "--runs": c.Runs}); err != nil {
		return err
	}
	r, err := bench.Infer(bench.InferConfig{Model: c.Model, Provider: c.Provider, Device: c.Device, Library: c.OrtLib,
		Batches: c.Batch, Size: c.Size, Threads: c.Threads, Warmup: c.Warmup, Runs: c.Runs, Seed: c.Seed})
	if err != nil {
		return err
	}
	return printBench(r, c.JSON, c.Report)
}

// BenchTrainCmd is `ssl4dp bench train`.
type BenchTrainCmd struct {
	Encoder      string  `required:"" enum:"resnet18,resnet34,resnet50" help:"Encoder: ${enum}."`
	Head         string  `default:"fcn" enum:"fcn,psp,deeplabv3plus,nonlocal" help:"Segmentation head (seg), or the decoder of plr, edmoco and pledmoco: ${enum}."`
	Width        float64 `default:"1" help:"Width multiplier of the encoder and head (graphs.Spec.Width)."`
	OutputStride int     `name:"output-stride" default:"16" help:"Output stride of the encoder: 32, 16 or 8."`
	Classes      int     `default:"21" help:"Classes of the segmentation head (seg)."`
	DecoderWidth int     `name:"decoder-width" default:"0" help:"Output channels of the decoder of plr, edmoco and pledmoco (0: the method's default, 128)."`
	Method       string  `default:"seg" help:"Training step to time: seg (train/seg: cross-entropy fine-tuning) or a pretext method (train/pretext): moco, simclr, byol, simsiam, plr, edmoco, plmoco, pledmoco."`
	Scale        string  `default:"cpu" enum:"cpu,paper" help:"Pretext hyper-parameters: ${enum} (train/pretext's Defaults)."`
	Batch        int     `default:"8" help:"Batch size."`
	Size         int     `default:"128" help:"Side of the square crop (seg) or views (pretext)."`
	Steps        int     `default:"10" help:"Timed steps."`
	Warmup       int     `default:"2" help:"Untimed steps first (the first also allocates every buffer)."`
	Threads      int     `default:"0" help:"GOMAXPROCS: the CPUs the ops split their work over (0: one per CPU). OpenBLAS stays single-threaded, as in training."`
	Profile      bool    `help:"Time every op of the timed steps and print a table: each op kind's forward and backward time, share of the step and GFLOP/s, and the time outside ops (tape machine, batch binding, optimizer)."`
	Seed         int64   `default:"1" help:"Seed of the parameters, the noise batch and per-step random choices."`
	JSON         bool    `name:"json" help:"Print one JSON object instead of text."`
	Report       string  `type:"path" placeholder:"FILE.json" help:"Also write the JSON report to this file."`
	NoMemoryPlan bool    `name:"no-memory-plan" help:"Give every op of the CPU step its own output buffer, as before the memory plan (the same bits, more memory): for before/after comparisons."`

	train.DeviceFlag `embed:""`
}

// Run times the step and prints the report.
func (c *BenchTrainCmd) Run(*Globals) error {
	if err := c.DeviceFlag.CheckDeviceLayer(os.Stderr); err != nil {
		return err
	}
	if err := positive(map[string]int{"--batch": c.Batch, "--size": c.Size, "--steps": c.Steps, "--classes": c.Classes}); err != nil {
		return err
	}
	spec := graphs.Spec{Encoder: graphs.Encoder(c.Encoder), Head: graphs.Head(c.Head), Width: c.Width,
		OutputStride: c.OutputStride, Classes: c.Classes, DecoderWidth: c.DecoderWidth, Seed: c.Seed}
	r, err := bench.Train(bench.TrainConfig{Method: c.Method, Spec: spec, Scale: pretext.Scale(c.Scale), Batch: c.Batch,
		Size: c.Size, Steps: c.Steps, Warmup: c.Warmup, Threads: c.Threads, Seed: c.Seed, Profile: c.Profile, Device: c.Device,
		TF32: c.TF32, NoMemoryPlan: c.NoMemoryPlan})
	if err != nil {
		return err
	}
	return printBench(r, c.JSON, c.Report)
}

// benchUsageError is a flag value kong's tags cannot reject: exit code 2.
type benchUsageError struct{ msg string }

func (e benchUsageError) Error() string { return e.msg }
func (e benchUsageError) ExitCode() int { return 2 }

// positive rejects flags that must be at least 1, naming the first bad one in flag order.
func positive(flags map[string]int) error {
	names := make([]string, 0, len(flags))
	for n := range flags {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if flags[n] <= 0 {
			return benchUsageError{fmt.Sprintf("bench: %s %d; want ≥ 1", n, flags[n])}
		}
	}
	return nil
}

// printBench prints a report as JSON or text, and writes its JSON to report when given.
func printBench(r interface{ WriteText(io.Writer) error }, asJSON bool, report string) error {
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	js = append(js, '\n')
	if report != "" {
		if err := atomicfile.WriteFile(report, js, 0o644); err != nil {
			return fmt.Errorf("bench: --report: %w", err)
		}
	}
	if asJSON {
		_, err := stdout.Write(js)
		return err
	}
	return r.WriteText(stdout)
}
