package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ssl4dp/ssl4dp/experiment"
)

// checkModes refuses flags that do not go together: one of --dry-run, --report, --status,
// --slurm and --only, and the sbatch flags only with --slurm.
func (c *ExperimentCmd) checkModes() error {
	var modes []string
	for name, on := range map[string]bool{"--dry-run": c.DryRun, "--report": c.Report, "--status": c.Status, "--slurm": c.Slurm, "--only": c.Only != ""} {
		if on {
			modes = append(modes, name)
		}
	}
	slices.Sort(modes)
	if len(modes) > 1 {
		return &experiment.GridError{Msg: fmt.Sprintf("%s do not go together; give one of --dry-run, --report, --status, --slurm, --only", strings.Join(modes, " and "))}
	}
	if !c.Slurm && (c.Partition != nil || c.Account != nil || c.Time != nil || c.GPUsPerJob != nil || len(c.SbatchArgs) > 0) {
		return &experiment.GridError{Msg: "--partition, --account, --time, --gpus-per-job and --sbatch-arg are for --slurm; add it to submit the grid to Slurm"}
	}
	if c.GPUsPerJob != nil && *c.GPUsPerJob < 0 {
		return &experiment.GridError{Msg: fmt.Sprintf("--gpus-per-job %d; want ≥ 0", *c.GPUsPerJob)}
	}
	for _, a := range c.SbatchArgs {
		if !strings.HasPrefix(a, "-") {
			return &experiment.GridError{Msg: fmt.Sprintf("--sbatch-arg %q: give one sbatch option, e.g. --sbatch-arg=--qos=long", a)}
		}
	}
	return nil
}

// submit sends the plan to Slurm: the jobs run this very binary, by absolute path, on the
// grid file and folder by absolute path (they start in other folders on other nodes).
func (c *ExperimentCmd) submit(g *experiment.Grid, p *experiment.Plan, out string) error {
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("experiment: finding the ssl4dp binary for the jobs: %w", err)
	}
	if bin, err = filepath.EvalSymlinks(bin); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	var args []string
	for _, kv := range c.Init {
		row, file, _ := strings.Cut(kv, "=")
		abs, err := filepath.Abs(file)
		if err != nil {
			return fmt.Errorf("experiment: %w", err)
		}
		args = append(args, "--init", row+"="+abs)
	}
	if c.OrtLib != "" {
		abs, err := filepath.Abs(c.OrtLib)
		if err != nil {
			return fmt.Errorf("experiment: %w", err)
		}
		args = append(args, "--ort-lib", abs)
	}
	spec := g.Slurm.Apply(experiment.SlurmOverride{Partition: c.Partition, Account: c.Account, Time: c.Time, GPUs: c.GPUsPerJob, Args: c.SbatchArgs})
	sub, err := experiment.Submit(p, experiment.SlurmCommands{}, experiment.SlurmOptions{
		Out: out, Grid: c.File, Binary: bin, Args: args, DeviceArgs: experiment.DeviceArgs(c.Device, c.TF32), Spec: spec, Log: stderr})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%d submitted, %d kept (queued or running), %d finished; logs in %s\n",
		len(sub.Submitted), len(sub.Kept), len(sub.Done), filepath.Join(out, "slurm", "logs"))
	switch {
	case sub.Results != "":
		fmt.Fprintf(stdout, "every stage and cell has finished: %s\n", sub.Results)
	case sub.Report != "":
		fmt.Fprintf(stdout, "job %s writes %s when the cells have ended; follow with: ssl4dp experiment %s --out %s --status\n",
			sub.Report, filepath.Join(out, experiment.ResultsFile), c.File, out)
	}
	return nil
}

// printStatus prints the folder's state, with each job's after a --slurm submission.
func (c *ExperimentCmd) printStatus(p *experiment.Plan, out string) error {
	if _, err := os.Stat(filepath.Join(out, experiment.SlurmJobsFile)); err != nil {
		return printPlan(p, out)
	}
	list, err := experiment.SlurmStatus(p, out, experiment.SlurmCommands{})
	if err != nil {
		// Off the cluster (a copy of the folder on a laptop) the folder still says what
		// finished.
		fmt.Fprintf(stderr, "%v; showing the folder's state only\n", err)
		return printPlan(p, out)
	}
	experiment.PrintSlurmStatus(stdout, list, out)
	return nil
}
