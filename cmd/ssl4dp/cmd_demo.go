package main

import (
	"fmt"
	"time"

	"github.com/ssl4dp/ssl4dp/demo"
	"github.com/ssl4dp/ssl4dp/train"
)

// DemoCmd is `ssl4dp demo`: pre-train, fine-tune, export, evaluate and benchmark on built-in
// synthetic data, and print the seed's table.
type DemoCmd struct {
	Out       string `default:"runs/demo" placeholder:"DIR" help:"Demo folder. Running again reuses finished stages and continues an interrupted one."`
	Quick     bool   `help:"A reduced run (tiny network, a few steps: seconds, and numbers without meaning), for tests."`
	PrintGrid bool   `name:"print-grid" help:"Print the demo's experiment grid (TOML, for 'ssl4dp experiment') and exit."`
	OrtLib    string `name:"ort-lib" placeholder:"FILE" help:"onnxruntime shared library (default: $ONNXRUNTIME_SHARED_LIBRARY_PATH, the 'just setup' cache, then system folders)."`
	Jobs      int    `name:"jobs" default:"2" help:"Stages and cells run at once, each as soon as what it starts from is done (1: one after another). The results do not depend on it."`

	train.DeviceFlag `embed:""`
}

// Help is the long help of `ssl4dp demo --help`.
func (c *DemoCmd) Help() string {
	return `On built-in synthetic scenes: pre-trains MoCo v2 from random initialisation, continues
with PLMoCo from the MoCo encoder ("MoCo + PLMoCo"), fine-tunes MoCo's FCN head from random
initialisation, from MoCo and from MoCo + PLMoCo (same seed and schedule), exports each model
to ONNX, evaluates it with onnxruntime, scores every row's frozen encoder with the linear
and retrieval probes (docs/protocols.md), benchmarks one model, and prints

  pre-training | epochs | head | mIoU | linear | retrieval | note

with the paths of the models, training curves and overlays. About 10 minutes on two CPU
cores (see README). The runs are an experiment grid ('ssl4dp demo --print-grid'), so Ctrl-C
and running the demo again continues where it stopped.`
}

// Run runs the demo and prints its report.
func (c *DemoCmd) Run(*Globals) error {
	if err := c.DeviceFlag.CheckDeviceLayer(stderr); err != nil {
		return err
	}
	if c.PrintGrid {
		grid := demo.Grid
		if c.Quick {
			grid = demo.QuickGrid
		}
		_, err := stdout.Write(grid)
		return err
	}
	ctx, stop := trainContext()
	defer stop()
	start := time.Now()
	res, err := demo.Run(ctx, demo.Options{Out: c.Out, Quick: c.Quick, Log: stderr, OrtLib: c.OrtLib, Jobs: c.Jobs, Device: c.Device, TF32: c.TF32})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout)
	if err := res.WriteReport(stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\ndemo took %s (this invocation; finished stages are reused when run again)\n", time.Since(start).Round(time.Second))
	return nil
}
