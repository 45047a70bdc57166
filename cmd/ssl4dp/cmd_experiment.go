package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/ssl4dp/ssl4dp/experiment"
	"github.com/ssl4dp/ssl4dp/train"
)

// ExperimentCmd is `ssl4dp experiment FILE`: a grid of pre-training rows × heads × seeds,
// run with resumable steps into a folder with results.md and results.png.
type ExperimentCmd struct {
	File   string   `arg:"" type:"existingfile" placeholder:"GRID.toml" help:"The grid (TOML): rows of pre-training stages, heads, seeds and their flags; see experiments/*.toml."`
	Out    string   `placeholder:"DIR" help:"Experiment folder (default: runs/<the grid file's name>). Running again in the same folder skips finished stages and cells and continues an interrupted one."`
	Init   []string `name:"init" placeholder:"ROW=FILE.onnx" help:"Give a checkpoint to a row (over its init key), e.g. --init 'Supervised=resnet18.onnx'; repeatable."`
	DryRun bool     `name:"dry-run" help:"Print the plan — every stage and cell with its folder and state (done, partial, to do) — and run nothing."`
	OrtLib string   `name:"ort-lib" placeholder:"FILE" help:"onnxruntime shared library (default: $ONNXRUNTIME_SHARED_LIBRARY_PATH, the 'just setup' cache, then system folders)."`
	Jobs   int      `name:"jobs" default:"2" help:"Stages and cells run at once, each as soon as the stage it starts from is done (1: one after another, half the memory). The results do not depend on it."`

	train.DeviceFlag `embed:""`
}

// Help is the long help of `ssl4dp experiment --help`.
func (c *ExperimentCmd) Help() string {
	return `Runs every cell of a grid in order: each row's pre-training stages (train pretext; a stage
shared by several rows runs once per seed), then for every head a fine-tuning run (train seg)
from the row's encoder, its export (dynamic shape, checked against Gorgonia) and its
evaluation with onnxruntime on the val split. results.md (pre-training | epochs | head |
mIoU mean ± std over seeds | note, per-seed values, times) and results.png (mIoU bars per
row and head, std as error bars) are rewritten after every cell.

--jobs (default 2) runs that many stages and cells at once, each as soon as the stage it
starts from is done: a run at CPU scale keeps about one core busy, so two use two cores.
Each run's output is shown whole and in the plan's order (a run that waits for its turn
shows plain progress lines); the results are the same for any --jobs.

A finished stage or cell (its done.json) is never run again; Ctrl-C stops after the current
step with a checkpoint, and the same command continues from there.

  ssl4dp experiment experiments/cpu.toml --dry-run
  ssl4dp experiment experiments/cpu.toml --out runs/cpu
  ssl4dp experiment experiments/cpu.toml --init 'Supervised=resnet18.onnx'`
}

// Run plans the grid and runs it (or prints the plan).
func (c *ExperimentCmd) Run(*Globals) error {
	if err := c.DeviceFlag.Check(); err != nil {
		return err
	}
	g, err := experiment.Load(c.File)
	if err != nil {
		return err
	}
	inits := map[string]string{}
	for _, kv := range c.Init {
		row, file, ok := strings.Cut(kv, "=")
		if !ok || strings.TrimSpace(row) == "" {
			return &experiment.GridError{Msg: fmt.Sprintf("--init %q; want ROW=FILE.onnx", kv)}
		}
		inits[row] = file
	}
	p, err := g.Plan(experiment.PlanOptions{Inits: inits})
	if err != nil {
		return err
	}
	out := c.Out
	if out == "" {
		out = filepath.Join("runs", strings.TrimSuffix(filepath.Base(c.File), filepath.Ext(c.File)))
	}
	if c.DryRun {
		return printPlan(p, out)
	}
	ctx, stop := trainContext()
	defer stop()
	res, err := experiment.Run(ctx, p, experiment.Options{Out: out, Log: stderr, OrtLib: c.OrtLib, Jobs: c.Jobs})
	if err != nil {
		if res != nil && res.Results != "" {
			fmt.Fprintf(stderr, "results so far: %s\n", res.Results)
		}
		return err
	}
	b, err := os.ReadFile(res.Results)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\nwrote %s and %s\n", b, res.Results, res.Chart)
	return nil
}

// printPlan lists the stages and cells with their state.
func printPlan(p *experiment.Plan, out string) error {
	st, err := experiment.States(p, out)
	if err != nil {
		return err
	}
	rows := len(p.Grid.Rows) - len(p.Skipped)
	probes := ""
	if len(p.Probes) > 0 {
		probes = fmt.Sprintf(" and %d probes (%s per row and seed)", len(p.Probes), strings.Join(p.Grid.Eval.Probes, ", "))
	}
	fmt.Fprintf(stdout, "%d pre-training stages and %d cells (%d rows × %d heads × %d seeds)%s in %s:\n",
		len(p.Stages), len(p.Cells), rows, len(p.Grid.Heads), len(p.Grid.Seeds), probes, out)
	for _, s := range p.Stages {
		fmt.Fprintf(stdout, "  %-8s stage %s: %s seed %d, rows %s\n", st[s.Dir], s.Dir, s.Method, s.Seed, strings.Join(s.Rows, "; "))
	}
	for _, c := range p.Cells {
		fmt.Fprintf(stdout, "  %-8s cell  %s: %s × %s, seed %d, from %s\n", st[c.Dir], c.Dir, c.Row, c.Head, c.Seed, c.Origin())
	}
	for _, pr := range p.Probes {
		fmt.Fprintf(stdout, "  %-8s probe %s: %s of %s, seed %d, from %s\n", st[pr.Dir], pr.Dir, pr.Protocol, pr.Row, pr.Seed, pr.Origin())
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(stdout, "  skipped  row %q: %s\n", s.Row, s.Reason)
	}
	return nil
}
