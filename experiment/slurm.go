package experiment

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The Slurm backend (`ssl4dp experiment FILE --slurm`) turns every stage and cell of a plan
// into one sbatch job in the grid's shared run folder, each job running
// `ssl4dp experiment FILE --out DIR --only ID` — the code the local backend runs, so the same
// bits — with --dependency=afterok on the stage it starts from, and a last report job
// (afterany on every cell) that writes results.md and results.png once. Slurm schedules; we
// only submit, and read back what happened from squeue (sacct where accounting exists) and
// from the folder's done.json records.
//
// Why one report job rather than every cell rewriting results.md: cells that finish at once
// would each read the records and write the table, and the one that read first could write
// last, leaving a table without the other's cell. A single writer after all cells has no such
// race and needs no lock on a network filesystem; `--report` writes the same table by hand at
// any time.
//
// Why --kill-on-invalid-dep=yes: without it the dependants of a failed job stay PENDING
// forever (reason DependencyNeverSatisfied) on clusters that do not set kill_invalid_depend,
// and the report job, waiting for them, never runs. With it they end CANCELLED, the report
// job writes what finished, and --status and the next submission name them as blocked by the
// failed job.

// Slurm is the part of Slurm the backend uses, so that tests can check the submitted jobs
// against a fake; SlurmCommands runs the real commands.
type Slurm interface {
	// Submit runs sbatch with args and the job script on stdin and returns the job ID.
	Submit(args []string, script string) (id string, err error)
	// Jobs returns what the cluster still knows of the given jobs, by ID; a job it has
	// forgotten (finished long ago, or on another cluster) is absent.
	Jobs(ids []string) (map[string]SlurmJob, error)
	// Cancel runs scancel.
	Cancel(ids []string) error
}

// SlurmJob is one job as squeue (or sacct) reports it.
type SlurmJob struct {
	ID     string
	State  string // PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, …
	Reason string // squeue's %r: Dependency, Resources, DependencyNeverSatisfied, None, …
}

// Active reports whether the job is queued or running: it will still do its work.
func (j SlurmJob) Active() bool {
	switch strings.TrimSuffix(j.State, "+") {
	case "PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "REQUEUE_FED",
		"REQUEUE_HOLD", "RESIZING", "SIGNALING", "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD":
		return !j.Stuck()
	}
	return false
}

// Stuck reports a pending job whose dependency failed: Slurm will never start it.
func (j SlurmJob) Stuck() bool {
	return j.State == "PENDING" && j.Reason == "DependencyNeverSatisfied"
}

// SlurmOptions say how a plan is submitted.
type SlurmOptions struct {
	Out    string   // the experiment folder, shared by the jobs (made absolute)
	Grid   string   // the grid file the jobs read (made absolute)
	Binary string   // the ssl4dp the jobs run: an absolute path every node can reach
	Args   []string // further flags of every job's command line (--init ROW=FILE, --ort-lib FILE)
	// DeviceArgs are the device flags of every stage's and cell's command line
	// (DeviceArgs: --device=cuda, --tf32); the report job trains nothing and goes without
	// them (a --device cuda there would need a GPU on the report's node).
	DeviceArgs []string
	Spec       SlurmSpec // resources per kind of job: the grid's [slurm] with the flags over it
	Log        io.Writer // one line per stage and cell: submitted, kept, finished (nil: os.Stderr)
}

// GPU requests: --gpus-per-job N becomes --gres=gpu:N rather than --gpus=N. Every job is one
// task on one node, where the two mean the same; --gres works on every Slurm that has GPUs
// configured (gres.conf), while --gpus needs select/cons_tres, which clusters still on
// cons_res or older releases lack.
func gpuArg(n int) string { return fmt.Sprintf("--gres=gpu:%d", n) }

// SlurmJobsFile records, in the experiment folder, the latest Slurm job of each stage and cell
// (by folder) and of the report, so that a second submission and --status find them.
const SlurmJobsFile = "slurm/jobs.json"

type jobsDoc struct {
	Jobs map[string]jobEntry `json:"jobs"` // by Stage.Dir, Cell.Dir, or "report"
}

type jobEntry struct {
	ID        string    `json:"id"`
	Log       string    `json:"log"`
	Submitted time.Time `json:"submitted"`
}

const reportEntry = "report"

func readJobs(out string) (*jobsDoc, error) {
	d := &jobsDoc{Jobs: map[string]jobEntry{}}
	if err := readJSON(filepath.Join(out, SlurmJobsFile), d); err != nil {
		return nil, err
	}
	if d.Jobs == nil {
		d.Jobs = map[string]jobEntry{}
	}
	return d, nil
}

// jobName is the Slurm job name: the program and the stage's or cell's folder, so that
// squeue says which one runs.
func jobName(what string) string { return "ssl4dp:" + what }

// logName is a job's log under OUT/slurm/logs: the folder flattened, then the job ID (%j).
func logName(out, dir string) string {
	return filepath.Join(out, "slurm", "logs", strings.ReplaceAll(dir, string(filepath.Separator), "_")+"-%j.log")
}

// sbatchArgs are a job's sbatch options. The script runs in the experiment folder.
func sbatchArgs(out, name, log string, r SlurmResources, dependency string) []string {
	args := []string{"--job-name=" + name, "--chdir=" + out, "--output=" + log, "--kill-on-invalid-dep=yes"}
	if dependency != "" {
		args = append(args, "--dependency="+dependency)
	}
	if r.Partition != "" {
		args = append(args, "--partition="+r.Partition)
	}
	if r.Account != "" {
		args = append(args, "--account="+r.Account)
	}
	if r.Time != "" {
		args = append(args, "--time="+r.Time)
	}
	if r.CPUs > 0 {
		args = append(args, fmt.Sprintf("--cpus-per-task=%d", r.CPUs))
	}
	if r.Mem != "" {
		args = append(args, "--mem="+r.Mem)
	}
	if r.GPUs > 0 {
		args = append(args, gpuArg(r.GPUs))
	}
	return append(args, r.Args...)
}

// jobScript is the batch script of one job: the same ssl4dp command line the user could
// type, with GOMAXPROCS set to the job's CPUs (without cgroups Go would see every core of the
// node and oversubscribe it).
func jobScript(comment string, argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = shellQuote(a)
	}
	return "#!/bin/sh\n# " + comment + "\n" +
		"if [ -n \"${SLURM_CPUS_PER_TASK:-}\" ]; then export GOMAXPROCS=\"$SLURM_CPUS_PER_TASK\"; fi\n" +
		"exec " + strings.Join(quoted, " ") + "\n"
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// absolute makes the paths every job reads absolute, since jobs run elsewhere.
func (o *SlurmOptions) absolute() error {
	for _, p := range []*string{&o.Out, &o.Grid, &o.Binary} {
		a, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("experiment: %w", err)
		}
		*p = a
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	return nil
}

// command is the ssl4dp command line of a job: --only ID, or --report for the report job.
func (o *SlurmOptions) command(tail ...string) []string {
	argv := []string{o.Binary, "experiment", o.Grid, "--out", o.Out}
	argv = append(argv, o.Args...)
	return append(argv, tail...)
}
