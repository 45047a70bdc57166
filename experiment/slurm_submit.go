package experiment

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Submission is what Submit did.
type Submission struct {
	Submitted []string // folders (Stage.Dir, Cell.Dir) submitted now, in plan order
	Kept      []string // queued or running from an earlier submission: left alone
	Done      []string // finished (done.json): not submitted
	Report    string   // the report job's ID ("" when none was needed: everything had finished)
	Results   string   // results.md, when Submit wrote it itself because everything had finished
}

// Submit submits the plan to Slurm: one job per stage and cell that is neither finished
// (its done.json) nor queued or running from an earlier Submit (read from OUT/slurm/jobs.json
// and squeue), each with --dependency=afterok on the job of the stage it starts from, and a
// report job afterany on every cell's job. A stage or cell whose previous job failed is
// submitted again, and so are its dependants (Slurm cancelled them), with a line saying why.
// Calling Submit again is how a grid is finished after failures.
func Submit(p *Plan, s Slurm, o SlurmOptions) (*Submission, error) {
	if err := o.absolute(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(o.Out, "slurm", "logs"), 0o755); err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	if err := writePlan(o.Out, p); err != nil {
		return nil, err
	}
	doc, err := readJobs(o.Out)
	if err != nil {
		return nil, err
	}
	known, err := s.Jobs(doc.ids())
	if err != nil {
		return nil, err
	}
	sub := &Submission{}
	ids := map[string]string{} // folder → the job that will produce it ("" when done)
	var cellJobs []string
	var stuck []string         // jobs to cancel: replaced by the ones submitted now
	fresh := map[string]bool{} // folders submitted now
	for _, j := range p.jobs() {
		dir := j.dir()
		rec, err := finished(filepath.Join(o.Out, dir), j.key())
		if err != nil {
			return sub, err
		}
		if rec != nil {
			sub.Done = append(sub.Done, dir)
			ids[dir] = ""
			continue
		}
		prev, had := doc.Jobs[dir]
		pj, inQueue := known[prev.ID]
		// A queued job that waits on a job replaced now would wait on a cancelled one.
		replaced := slices.ContainsFunc(j.deps, func(d *job) bool { return fresh[d.dir()] })
		if had && inQueue && pj.Active() && replaced {
			fmt.Fprintf(o.Log, "again     %s: job %s waits on a job replaced now; cancelled\n", j.what(), pj.ID)
			stuck = append(stuck, pj.ID)
		} else if had && inQueue && pj.Active() {
			fmt.Fprintf(o.Log, "kept      %s: job %s %s\n", j.what(), pj.ID, pj.State)
			sub.Kept = append(sub.Kept, dir)
			ids[dir] = pj.ID
			if j.stage == nil {
				cellJobs = append(cellJobs, pj.ID)
			}
			continue
		}
		if had && !(inQueue && pj.Active()) {
			why := "no longer known to Slurm, without done.json"
			if inQueue {
				why = pj.State
				if pj.Reason != "" && pj.Reason != "None" {
					why += " (" + pj.Reason + ")"
				}
				if pj.Stuck() {
					stuck = append(stuck, pj.ID)
				}
			}
			fmt.Fprintf(o.Log, "again     %s: job %s %s; log %s\n", j.what(), prev.ID, why, prev.Log)
		}
		var after []string
		for _, d := range j.deps {
			if id := ids[d.dir()]; id != "" {
				after = append(after, id)
			}
		}
		dep := ""
		if len(after) > 0 {
			dep = "afterok:" + strings.Join(after, ":")
		}
		res := o.Spec.Cell
		if j.stage != nil {
			res = o.Spec.Stage
		}
		log := logName(o.Out, dir)
		args := sbatchArgs(o.Out, jobName(dir), log, res, dep)
		script := jobScript("ssl4dp experiment --slurm: "+j.what()+j.describe(), o.command(append(append([]string(nil), o.DeviceArgs...), "--only", dir)...))
		id, err := s.Submit(args, script)
		if err != nil {
			return sub, saveJobs(o.Out, doc, err)
		}
		doc.Jobs[dir] = jobEntry{ID: id, Log: strings.ReplaceAll(log, "%j", id), Submitted: time.Now().UTC()}
		ids[dir] = id
		fresh[dir] = true
		sub.Submitted = append(sub.Submitted, dir)
		if j.stage == nil { // cells and probes: the report waits for them
			cellJobs = append(cellJobs, id)
		}
		msg := ""
		if dep != "" {
			msg = " after " + strings.Join(after, ", ")
		}
		fmt.Fprintf(o.Log, "submitted %s: job %s%s\n", j.what(), id, msg)
	}
	if len(stuck) > 0 {
		// Pending forever on a failed dependency (a cluster without kill-on-invalid-dep), or
		// waiting on such a job: replaced above by new jobs.
		if err := s.Cancel(stuck); err != nil {
			return sub, saveJobs(o.Out, doc, err)
		}
	}
	if err := submitReport(p, s, &o, doc, known, cellJobs, len(sub.Submitted) > 0, sub); err != nil {
		return sub, saveJobs(o.Out, doc, err)
	}
	return sub, saveJobs(o.Out, doc, nil)
}

// submitReport keeps a queued report job when nothing new was submitted; otherwise it
// replaces a pending one with a job afterany on every cell job, so that it runs last and
// once. With no cell left to run it writes the report itself.
func submitReport(p *Plan, s Slurm, o *SlurmOptions, doc *jobsDoc, known map[string]SlurmJob, cellJobs []string, changed bool, sub *Submission) error {
	prev, had := doc.Jobs[reportEntry]
	pj, inQueue := known[prev.ID]
	if had && inQueue && pj.Active() && !changed {
		fmt.Fprintf(o.Log, "kept      report: job %s %s\n", pj.ID, pj.State)
		sub.Report = pj.ID
		return nil
	}
	if len(cellJobs) == 0 {
		res, err := Report(p, o.Out)
		if err != nil {
			return err
		}
		sub.Results = res.Results
		fmt.Fprintf(o.Log, "nothing to submit: every stage and cell has finished; wrote %s\n", res.Results)
		return nil
	}
	if had && inQueue && pj.State == "PENDING" {
		if err := s.Cancel([]string{pj.ID}); err != nil {
			return err
		}
		fmt.Fprintf(o.Log, "replaced  report: job %s (cancelled)\n", pj.ID)
	}
	log := logName(o.Out, reportEntry)
	args := sbatchArgs(o.Out, jobName(reportEntry), log, o.Spec.Report, "afterany:"+strings.Join(cellJobs, ":"))
	id, err := s.Submit(args, jobScript("ssl4dp experiment --slurm: the report (results.md, results.png) once every cell has ended", o.command("--report")))
	if err != nil {
		return err
	}
	doc.Jobs[reportEntry] = jobEntry{ID: id, Log: strings.ReplaceAll(log, "%j", id), Submitted: time.Now().UTC()}
	sub.Report = id
	fmt.Fprintf(o.Log, "submitted report: job %s after every cell\n", id)
	return nil
}

// describe adds the stage's or cell's meaning to a script's comment.
func (j *job) describe() string {
	if j.stage != nil {
		return fmt.Sprintf(" (pre-train %s, seed %d, rows %s)", j.stage.Method, j.stage.Seed, strings.Join(j.stage.Rows, "; "))
	}
	if j.probe != nil {
		return fmt.Sprintf(" (%s of row %s, seed %d)", protocolColumn(j.probe.Protocol), j.probe.Row, j.probe.Seed)
	}
	return fmt.Sprintf(" (row %s, head %s, seed %d)", j.cell.Row, j.cell.Head, j.cell.Seed)
}

func (d *jobsDoc) ids() []string {
	var ids []string
	for _, e := range d.Jobs {
		ids = append(ids, e.ID)
	}
	return ids
}

// saveJobs records the jobs submitted so far, even when a later submission failed (those
// jobs are in the queue), and returns err.
func saveJobs(out string, d *jobsDoc, err error) error {
	if werr := writeJSON(filepath.Join(out, SlurmJobsFile), d); werr != nil && err == nil {
		err = werr
	}
	return err
}

// readJSON decodes path into v; a missing file leaves v as it is.
func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("experiment: %s: %w", path, err)
	}
	return nil
}
