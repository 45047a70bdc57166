// Package demo is `ssl4dp demo`: the whole job on built-in synthetic scenes in minutes on two
// CPU cores. It pre-trains MoCo v2 from random initialisation, continues with PLMoCo from
// the MoCo encoder (the seed's "MoCo + PLMoCo"), fine-tunes MoCo's FCN head from random
// initialisation, from MoCo and from MoCo + PLMoCo (same seed, same schedule), exports each
// model, evaluates it with onnxruntime, benchmarks one, and prints the seed's table.
//
//	res, err := demo.Run(ctx, demo.Options{Out: "runs/demo"})
//	res.WriteReport(os.Stdout)
//
// The runs are an experiment grid (package experiment) embedded as demo.toml (quick.toml for
// Options.Quick, a seconds-long version for tests), so the demo resumes as an experiment
// does: running it again reuses finished stages and cells and continues an interrupted one.
// `ssl4dp experiment` runs the same file: extract it with `ssl4dp demo --print-grid`.
package demo

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/ssl4dp/ssl4dp/bench"
	"github.com/ssl4dp/ssl4dp/experiment"
	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
)

// The grids: the real demo and the reduced one for tests.
var (
	//go:embed demo.toml
	Grid []byte
	//go:embed quick.toml
	QuickGrid []byte
)

// BenchRow is the row whose MoCoFCN model the demo benchmarks.
const BenchRow = "MoCo v2 + PLMoCo"

// Options say where the demo writes and how big it is.
type Options struct {
	Out    string    // the demo folder (default runs/demo)
	Quick  bool      // the reduced grid: seconds instead of minutes, numbers without meaning
	Log    io.Writer // progress: stages, progress bars, summaries (nil: os.Stderr)
	OrtLib string    // onnxruntime library ("": found as usual)
	// Jobs is how many stages and cells run at once (experiment.Options.Jobs; 0: DefaultJobs).
	Jobs int
	// Device is where the runs train (experiment.Options.Device: "" or cpu, emulated, cuda).
	Device string
	TF32   bool // --tf32 on cuda (experiment.Options.TF32)
}

// DefaultJobs is how many of the demo's runs go on at once by default. One run keeps about
// one of two cores busy at the demo's sizes, and the grid has two independent chains at
// every point (random-init fine-tuning beside MoCo v2, MoCo v2 fine-tuning beside PLMoCo),
// so two at once use both cores; the numbers are the same for any value.
const DefaultJobs = 2

// Result is what the demo did and where its files are.
type Result struct {
	Out        string
	Quick      bool
	Experiment *experiment.Result
	Bench      *bench.InferReport
	BenchModel string
	BenchJSON  string
}

// Run runs the demo grid, then benchmarks the MoCo v2 + PLMoCo model with onnxruntime.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Out == "" {
		o.Out = filepath.Join("runs", "demo")
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	src, name := Grid, "demo.toml"
	if o.Quick {
		src, name = QuickGrid, "quick.toml"
	}
	g, err := experiment.Parse(src, "demo/"+name)
	if err != nil {
		return nil, fmt.Errorf("demo: the embedded grid: %w", err)
	}
	p, err := g.Plan(experiment.PlanOptions{})
	if err != nil {
		return nil, err
	}
	if o.Jobs == 0 {
		o.Jobs = DefaultJobs
	}
	res := &Result{Out: o.Out, Quick: o.Quick}
	if res.Experiment, err = experiment.Run(ctx, p, experiment.Options{Out: o.Out, Log: o.Log, OrtLib: o.OrtLib, Jobs: o.Jobs, Device: o.Device, TF32: o.TF32}); err != nil {
		return res, err
	}
	for _, c := range p.Cells {
		if c.Row == BenchRow {
			res.BenchModel = filepath.Join(o.Out, c.Dir, "model.onnx")
		}
	}
	if res.BenchModel == "" {
		return res, fmt.Errorf("demo: the grid has no %q row to benchmark", BenchRow)
	}
	fmt.Fprintf(o.Log, "\n== bench: onnxruntime inference of %s\n", res.BenchModel)
	cfg := bench.InferConfig{Model: res.BenchModel, Library: o.OrtLib, Batches: []int{1, 8}, Size: benchSize(p), Warmup: 3, Runs: 20}
	if o.Quick {
		cfg.Batches, cfg.Warmup, cfg.Runs = []int{1}, 1, 3
	}
	if res.Bench, err = bench.Infer(cfg); err != nil {
		return res, err
	}
	res.BenchJSON = filepath.Join(o.Out, "bench.json")
	b, err := json.MarshalIndent(res.Bench, "", "  ")
	if err != nil {
		return res, fmt.Errorf("demo: %w", err)
	}
	if err := atomicfile.WriteFile(res.BenchJSON, append(b, '\n'), 0o644); err != nil {
		return res, fmt.Errorf("demo: %w", err)
	}
	return res, nil
}

// benchSize is the image side the demo's models were trained at (the crop).
func benchSize(p *experiment.Plan) int {
	for _, c := range p.Cells {
		if v, ok := cropOf(c.Args); ok {
			return v
		}
	}
	return 64
}

func cropOf(args []string) (int, bool) {
	for _, a := range args {
		var v int
		if _, err := fmt.Sscanf(a, "--crop=%d", &v); err == nil {
			return v, true
		}
	}
	return 0, false
}
