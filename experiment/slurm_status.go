package experiment

import (
	"fmt"
	"io"
	"strings"
)

// JobStatus is the state of one stage or cell (or of the report job) of a submitted plan:
// its folder first, then its latest Slurm job.
type JobStatus struct {
	What  string    // "stage stages/…", "cell cells/…" or "report"
	Dir   string    // the folder ("" for the report)
	State string    // done, running, pending, failed, blocked, partial, to do
	Job   *SlurmJob // the latest job, when Slurm still knows it
	JobID string    // the latest job's ID ("" when never submitted)
	Log   string    // its log
	Note  string    // why: the Slurm state and reason, or the failed job a blocked one waits on
}

// SlurmStatus reads the state of every stage and cell from the folder (done.json, a started
// run) and from Slurm (the jobs recorded by Submit, as squeue or sacct reports them). A
// stage or cell that is not done and whose stage failed or is blocked is blocked by it: it
// runs only after the failed one is submitted again.
func SlurmStatus(p *Plan, out string, s Slurm) ([]JobStatus, error) {
	doc, err := readJobs(out)
	if err != nil {
		return nil, err
	}
	known, err := s.Jobs(doc.ids())
	if err != nil {
		return nil, err
	}
	folder, err := States(p, out)
	if err != nil {
		return nil, err
	}
	var list []JobStatus
	byDir := map[string]*JobStatus{}
	for _, j := range p.jobs() {
		dir := j.dir()
		st := JobStatus{What: j.what(), Dir: dir, State: folder[dir]}
		if e, ok := doc.Jobs[dir]; ok {
			st.JobID, st.Log = e.ID, e.Log
			if k, ok := known[e.ID]; ok {
				st.Job = &k
			}
		}
		if st.State != "done" {
			st.State, st.Note = jobState(st)
			for _, d := range j.deps {
				if ds := byDir[d.dir()]; ds != nil && (ds.State == "failed" || ds.State == "blocked") {
					st.State = "blocked"
					st.Note = "needs " + d.what() + ", which " + map[string]string{"failed": "failed", "blocked": "is blocked"}[ds.State]
					if ds.JobID != "" {
						st.Note += " (job " + ds.JobID + ")"
					}
				}
			}
		}
		list = append(list, st)
		byDir[dir] = &list[len(list)-1]
	}
	rep := JobStatus{What: "report", State: "to do"}
	if e, ok := doc.Jobs[reportEntry]; ok {
		rep.JobID, rep.Log = e.ID, e.Log
		if k, ok := known[e.ID]; ok {
			rep.Job = &k
		}
		rep.State, rep.Note = jobState(rep)
		if rep.Job != nil && rep.Job.State == "COMPLETED" {
			rep.State = "done"
		}
	}
	list = append(list, rep)
	return list, nil
}

// jobState is the state of an unfinished folder from its latest job.
func jobState(st JobStatus) (state, note string) {
	if st.JobID == "" {
		return st.State, "not submitted"
	}
	if st.Job == nil {
		if st.Dir == "" {
			return "to do", "job " + st.JobID + " no longer known to Slurm"
		}
		return "failed", "job " + st.JobID + " ended without done.json (Slurm no longer knows it)"
	}
	j := st.Job
	note = "job " + j.ID + " " + j.State
	if j.Reason != "" && j.Reason != "None" {
		note += " (" + j.Reason + ")"
	}
	switch {
	case j.Stuck() || j.State == "CANCELLED" && strings.HasPrefix(j.Reason, "Dependency"):
		return "blocked", note
	case j.State == "RUNNING" || j.State == "COMPLETING" || j.State == "CONFIGURING":
		return "running", note
	case j.Active():
		return "pending", note
	case j.State == "COMPLETED" && st.Dir != "":
		return "failed", note + " without done.json"
	case j.State == "COMPLETED":
		return "done", note
	}
	return "failed", note
}

// PrintSlurmStatus writes one line per stage, cell and the report, then the counts.
func PrintSlurmStatus(w io.Writer, list []JobStatus, out string) {
	count := map[string]int{}
	for _, s := range list {
		count[s.State]++
		line := fmt.Sprintf("  %-8s %s", s.State, s.What)
		if s.Note != "" && s.State != "done" {
			line += ": " + s.Note
		}
		if s.State == "failed" && s.Log != "" {
			line += "; log " + s.Log
		}
		fmt.Fprintln(w, line)
	}
	var parts []string
	for _, k := range []string{"done", "running", "pending", "failed", "blocked", "partial", "to do"} {
		if count[k] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", count[k], k))
		}
	}
	fmt.Fprintf(w, "%s: %s\n", out, strings.Join(parts, ", "))
	if count["failed"]+count["blocked"] > 0 {
		fmt.Fprintf(w, "submit again (the same command with --slurm) to rerun the failed ones and what they block; finished ones are kept\n")
	}
}

// Unfinished reports whether any job of the status list is still queued or running.
func Unfinished(list []JobStatus) bool {
	for _, s := range list {
		if s.State == "running" || s.State == "pending" {
			return true
		}
	}
	return false
}
