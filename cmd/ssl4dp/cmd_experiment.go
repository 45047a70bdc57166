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

	Only   string `name:"only" placeholder:"ID" help:"Run exactly one stage or cell, by its folder (as --dry-run lists it, e.g. cells/moco-v2/mocofcn/s1-…) or key; refused until the stage it starts from is done. What each Slurm job runs. Does not rewrite results.md (--report does)."`
	Report bool   `name:"report" help:"Write results.md and results.png from whatever has finished in the folder, and run nothing."`
	Status bool   `name:"status" help:"Print every stage's and cell's state: the folder's (done, partial, to do) and, after --slurm, its job's (pending, running, failed, blocked by a failed stage) from squeue (sacct where accounting exists)."`

	Slurm      bool     `name:"slurm" group:"Slurm" help:"Submit the grid to Slurm instead of running it here: one sbatch job per stage and cell, with afterok dependencies, and a report job at the end. Submitting again submits only what is neither finished nor queued or running."`
	Partition  *string  `name:"partition" group:"Slurm" placeholder:"P" help:"sbatch --partition for every job (over [slurm] partition)."`
	Account    *string  `name:"account" group:"Slurm" placeholder:"A" help:"sbatch --account for every job (over [slurm] account)."`
	Time       *string  `name:"time" group:"Slurm" placeholder:"T" help:"sbatch --time for every stage and cell job, e.g. 4:00:00 or 1-12:00:00 (over [slurm] time)."`
	GPUsPerJob *int     `name:"gpus-per-job" group:"Slurm" placeholder:"N" help:"GPUs per stage and cell job, as --gres=gpu:N (over [slurm] gpus-per-job)."`
	SbatchArgs []string `name:"sbatch-arg" sep:"none" group:"Slurm" placeholder:"ARG" help:"A further sbatch option for every job, e.g. --sbatch-arg=--qos=long; repeatable (after [slurm] sbatch-args)."`

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
  ssl4dp experiment experiments/cpu.toml --init 'Supervised=resnet18.onnx'

On a Slurm cluster (docs/cluster.md), --slurm submits every stage and cell as its own job
in the shared folder — each runs 'ssl4dp experiment FILE --out DIR --only ID', the code
above, so the numbers are the same bits — with --dependency=afterok on the stage it starts
from and a last job that writes results.md. Resources per kind of job come from the grid's
[slurm] table ([slurm.stage], [slurm.cell], [slurm.report]) and the flags over it. Run the
same command again after a failure: finished and queued jobs are kept, the rest submitted.

  ssl4dp experiment experiments/voc.toml --out /shared/runs/voc --slurm --partition gpu --gpus-per-job 1
  ssl4dp experiment experiments/voc.toml --out /shared/runs/voc --status
  ssl4dp experiment experiments/voc.toml --out /shared/runs/voc --report`
}

// Run plans the grid and runs it (or prints the plan).
func (c *ExperimentCmd) Run(*Globals) error {
	if err := c.DeviceFlag.CheckDeviceLayer(stderr); err != nil {
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
	if err := c.checkModes(); err != nil {
		return err
	}
	switch {
	case c.DryRun:
		return printPlan(p, out)
	case c.Report:
		res, err := experiment.Report(p, out)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s and %s\n", res.Results, res.Chart)
		return nil
	case c.Status:
		return c.printStatus(p, out)
	case c.Slurm:
		return c.submit(g, p, out)
	case c.Only != "":
		ctx, stop := trainContext()
		defer stop()
		_, err := experiment.RunOnly(ctx, p, experiment.Options{Out: out, Log: stderr, OrtLib: c.OrtLib, Device: c.Device, TF32: c.TF32}, c.Only)
		return err
	}
	ctx, stop := trainContext()
	defer stop()
	res, err := experiment.Run(ctx, p, experiment.Options{Out: out, Log: stderr, OrtLib: c.OrtLib, Jobs: c.Jobs, Device: c.Device, TF32: c.TF32})
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
