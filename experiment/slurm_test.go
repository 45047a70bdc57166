package experiment

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
)

// fakeSlurm records what would be submitted and answers squeue from a table.
type fakeSlurm struct {
	next      int
	submits   []fakeSubmit
	jobs      map[string]SlurmJob
	cancelled []string
}

type fakeSubmit struct {
	id     string
	args   []string
	script string
}

func (f *fakeSlurm) Submit(args []string, script string) (string, error) {
	f.next++
	id := fmt.Sprint(100 + f.next)
	f.submits = append(f.submits, fakeSubmit{id, args, script})
	if f.jobs == nil {
		f.jobs = map[string]SlurmJob{}
	}
	f.jobs[id] = SlurmJob{ID: id, State: "PENDING", Reason: "Dependency"}
	return id, nil
}

func (f *fakeSlurm) Jobs(ids []string) (map[string]SlurmJob, error) {
	out := map[string]SlurmJob{}
	for _, id := range ids {
		if j, ok := f.jobs[id]; ok {
			out[id] = j
		}
	}
	return out, nil
}

func (f *fakeSlurm) Cancel(ids []string) error {
	f.cancelled = append(f.cancelled, ids...)
	return nil
}

// byOnly is the submission whose script runs --only dir, and "report" for the report job.
func (f *fakeSlurm) byOnly(t *testing.T, dir string) fakeSubmit {
	t.Helper()
	for _, s := range f.submits {
		if dir == reportEntry && strings.Contains(s.script, "'--report'") || strings.Contains(s.script, "'--only' '"+dir+"'") {
			return s
		}
	}
	t.Fatalf("no job runs %s; submitted:\n%v", dir, f.submits)
	return fakeSubmit{}
}

func argValue(args []string, name string) string {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// slurmGrid has a chain of two stages shared by two rows' cells, a row without stages, two
// seeds, and per-kind resources.
const slurmGrid = tiny + `
[slurm]
partition = "gpu"
account = "lab"
time = "4:00:00"
gpus-per-job = 1
cpus-per-task = 8
mem = "32G"
sbatch-args = ["--qos=normal"]

[slurm.stage]
time = "1-00:00:00"

[slurm.cell]
gpus-per-job = 2
`

func slurmOptions(out string) SlurmOptions {
	g, _ := Parse([]byte(slurmGrid), "g.toml")
	return SlurmOptions{Out: out, Grid: "/grids/g.toml", Binary: "/opt/ssl4dp", Args: []string{"--init", "Supervised=/m/r18.onnx"},
		Spec: g.Slurm.Apply(SlurmOverride{Args: []string{"--constraint=a100"}}), Log: &bytes.Buffer{}}
}

// Every stage and cell is one job running `ssl4dp experiment GRID --out DIR --only ID` with
// absolute paths; a continuing stage waits (afterok) on its parent's job, a cell on its
// chain's last stage, the report job on every cell (afterany); resources come per kind.
func TestSubmitOneJobPerStageAndCell(t *testing.T) {
	out := t.TempDir()
	p := mustPlan(t, strings.Replace(slurmGrid, "seeds = [3]", "seeds = [3, 4]", 1), PlanOptions{})
	f := &fakeSlurm{}
	sub, err := Submit(p, f, slurmOptions(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.submits) != len(p.Stages)+len(p.Cells)+1 || len(sub.Submitted) != len(p.Stages)+len(p.Cells) || len(p.Stages) != 4 || len(p.Cells) != 6 {
		t.Fatalf("%d stages, %d cells: %d jobs submitted", len(p.Stages), len(p.Cells), len(f.submits))
	}
	for _, st := range p.Stages {
		s := f.byOnly(t, st.Dir)
		wantCmd := fmt.Sprintf("exec '/opt/ssl4dp' 'experiment' '/grids/g.toml' '--out' '%s' '--init' 'Supervised=/m/r18.onnx' '--only' '%s'\n", out, st.Dir)
		if !strings.HasSuffix(s.script, wantCmd) || !strings.HasPrefix(s.script, "#!/bin/sh\n") || !strings.Contains(s.script, "GOMAXPROCS=\"$SLURM_CPUS_PER_TASK\"") {
			t.Errorf("%s: script\n%s\nwant it to end with\n%s", st.Dir, s.script, wantCmd)
		}
		dep := ""
		if st.Parent != nil {
			dep = "afterok:" + f.byOnly(t, st.Parent.Dir).id
		}
		if got := argValue(s.args, "--dependency"); got != dep {
			t.Errorf("%s: dependency %q, want %q", st.Dir, got, dep)
		}
		if argValue(s.args, "--time") != "1-00:00:00" || argValue(s.args, "--gres") != "gpu:1" || argValue(s.args, "--job-name") != "ssl4dp:"+st.Dir {
			t.Errorf("%s: args %v", st.Dir, s.args)
		}
	}
	var cellIDs []string
	for _, c := range p.Cells {
		s := f.byOnly(t, c.Dir)
		cellIDs = append(cellIDs, s.id)
		dep := ""
		if n := len(c.Stages); n > 0 {
			dep = "afterok:" + f.byOnly(t, c.Stages[n-1].Dir).id
		}
		want := []string{"--job-name=ssl4dp:" + c.Dir, "--chdir=" + out, "--output=" + logName(out, c.Dir), "--kill-on-invalid-dep=yes"}
		if dep != "" {
			want = append(want, "--dependency="+dep)
		}
		want = append(want, "--partition=gpu", "--account=lab", "--time=4:00:00", "--cpus-per-task=8", "--mem=32G", "--gres=gpu:2", "--qos=normal", "--constraint=a100")
		if !slices.Equal(s.args, want) {
			t.Errorf("%s: sbatch\n%v\nwant\n%v", c.Dir, s.args, want)
		}
	}
	rep := f.byOnly(t, reportEntry)
	want := []string{"--job-name=ssl4dp:report", "--chdir=" + out, "--output=" + logName(out, "report"), "--kill-on-invalid-dep=yes",
		"--dependency=afterany:" + strings.Join(cellIDs, ":"), "--partition=gpu", "--account=lab", "--time=30:00", "--cpus-per-task=1", "--qos=normal", "--constraint=a100"}
	if !slices.Equal(rep.args, want) || sub.Report != rep.id {
		t.Errorf("report: sbatch\n%v\nwant\n%v", rep.args, want)
	}
	// The plan and the jobs are recorded in the folder.
	doc, err := readJobs(out)
	if err != nil || len(doc.Jobs) != len(f.submits) || doc.Jobs[p.Cells[0].Dir].Log != strings.ReplaceAll(logName(out, p.Cells[0].Dir), "%j", cellIDs[0]) {
		t.Errorf("jobs.json: %+v, %v", doc, err)
	}
	if !exists(filepath.Join(out, planFile)) {
		t.Error("no plan.json")
	}
}

// experiment --slurm --device cuda --tf32: every stage's and cell's job script runs its
// --only with the device flags; the report job, which trains nothing, goes without them.
func TestSubmitPassesTheDevice(t *testing.T) {
	out := t.TempDir()
	p := mustPlan(t, slurmGrid, PlanOptions{})
	f := &fakeSlurm{}
	o := slurmOptions(out)
	o.DeviceArgs = DeviceArgs("cuda", true)
	if _, err := Submit(p, f, o); err != nil {
		t.Fatal(err)
	}
	for _, dir := range append(stageDirs(p), cellDirs(p)...) {
		want := fmt.Sprintf("exec '/opt/ssl4dp' 'experiment' '/grids/g.toml' '--out' '%s' '--init' 'Supervised=/m/r18.onnx' '--device=cuda' '--tf32' '--only' '%s'\n", out, dir)
		if s := f.byOnly(t, dir); !strings.HasSuffix(s.script, want) {
			t.Errorf("%s: script\n%s\nwant it to end with\n%s", dir, s.script, want)
		}
	}
	if rep := f.byOnly(t, reportEntry); strings.Contains(rep.script, "--device") || strings.Contains(rep.script, "--tf32") {
		t.Errorf("the report job got the device flags:\n%s", rep.script)
	}
	if got := DeviceArgs("cpu", false); got != nil {
		t.Errorf("DeviceArgs(cpu) = %q, want none", got)
	}
	if got := DeviceArgs("emulated", false); !slices.Equal(got, []string{"--device=emulated"}) {
		t.Errorf("DeviceArgs(emulated) = %q", got)
	}
}

func stageDirs(p *Plan) []string {
	var d []string
	for _, st := range p.Stages {
		d = append(d, st.Dir)
	}
	return d
}

func cellDirs(p *Plan) []string {
	var d []string
	for _, c := range p.Cells {
		d = append(d, c.Dir)
	}
	return d
}

func finishFolder(t *testing.T, out, dir, key string, miou float64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(out, dir), 0o755); err != nil {
		t.Fatal(err)
	}
	rec := &Record{Key: key, Kind: "stage"}
	if strings.HasPrefix(dir, "cells") {
		rec = &Record{Key: key, Kind: "cell", Scores: &metrics.Scores{MIoU: miou}}
	}
	if err := writeRecord(filepath.Join(out, dir), rec); err != nil {
		t.Fatal(err)
	}
}

// Submitting again submits only what is neither finished nor queued or running: a failed
// stage and the cells it blocked go again, waiting on the new job; a running stage is kept
// and new cells wait on it; a job stuck on a failed dependency is replaced and cancelled,
// and so are the queued job waiting on it (it would wait on a cancelled job) and the pending
// report job. --status says which are blocked by what.
func TestResubmitSubmitsOnlyWhatIsLeft(t *testing.T) {
	out := t.TempDir()
	p := mustPlan(t, slurmGrid, PlanOptions{})
	random, moco, mocoCell, plmoco, last := p.Cells[0], p.Stages[0], p.Cells[1], p.Stages[1], p.Cells[2]
	f := &fakeSlurm{}
	if _, err := Submit(p, f, slurmOptions(out)); err != nil {
		t.Fatal(err)
	}
	id := func(dir string) string { return f.byOnly(t, dir).id }
	// The RandomInit cell finished; the MoCo stage failed, so Slurm cancelled its cell; the
	// PLMoCo stage (waiting on MoCo) is stuck, as on a cluster without kill-on-invalid-dep.
	finishFolder(t, out, random.Dir, random.Key, 0.5)
	f.jobs[id(random.Dir)] = SlurmJob{ID: id(random.Dir), State: "COMPLETED", Reason: "None"}
	f.jobs[id(moco.Dir)] = SlurmJob{ID: id(moco.Dir), State: "FAILED", Reason: "NonZeroExitCode"}
	f.jobs[id(mocoCell.Dir)] = SlurmJob{ID: id(mocoCell.Dir), State: "CANCELLED", Reason: "DependencyNeverSatisfied"}
	f.jobs[id(plmoco.Dir)] = SlurmJob{ID: id(plmoco.Dir), State: "PENDING", Reason: "DependencyNeverSatisfied"}
	oldReport := id(reportEntry)

	list, err := SlurmStatus(p, out, f)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, s := range list {
		states[s.What] = s.State + ": " + s.Note
	}
	for what, want := range map[string]string{
		"cell " + random.Dir:   "done",
		"stage " + moco.Dir:    "failed: job " + id(moco.Dir) + " FAILED (NonZeroExitCode)",
		"cell " + mocoCell.Dir: "blocked: needs stage " + moco.Dir + ", which failed (job " + id(moco.Dir) + ")",
		"stage " + plmoco.Dir:  "blocked: needs stage " + moco.Dir + ", which failed",
		"cell " + last.Dir:     "blocked: needs stage " + plmoco.Dir + ", which is blocked",
		"report":               "pending: job " + oldReport + " PENDING (Dependency)",
	} {
		if !strings.HasPrefix(states[what], want) {
			t.Errorf("%s: %q, want %q…", what, states[what], want)
		}
	}
	var buf bytes.Buffer
	PrintSlurmStatus(&buf, list, out)
	if !strings.Contains(buf.String(), "1 done, 1 pending, 1 failed, 3 blocked") || !strings.Contains(buf.String(), "; log "+filepath.Join(out, "slurm", "logs")) {
		t.Errorf("status:\n%s", buf.String())
	}

	f2 := &fakeSlurm{next: 50, jobs: f.jobs}
	o := slurmOptions(out)
	sub, err := Submit(p, f2, o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sub.Done, []string{random.Dir}) || len(sub.Kept) != 0 ||
		!slices.Equal(sub.Submitted, []string{moco.Dir, mocoCell.Dir, plmoco.Dir, last.Dir}) {
		t.Errorf("second submission: %+v", sub)
	}
	if got := argValue(f2.byOnly(t, mocoCell.Dir).args, "--dependency"); got != "afterok:"+f2.byOnly(t, moco.Dir).id {
		t.Errorf("the MoCo cell waits on %q", got)
	}
	if got := argValue(f2.byOnly(t, reportEntry).args, "--dependency"); got != "afterany:"+f2.byOnly(t, mocoCell.Dir).id+":"+f2.byOnly(t, last.Dir).id {
		t.Errorf("the new report waits on %q", got)
	}
	if !slices.Equal(f2.cancelled, []string{id(plmoco.Dir), id(last.Dir), oldReport}) {
		t.Errorf("cancelled %v, want the stuck stage %s, the cell waiting on it %s and the old report %s", f2.cancelled, id(plmoco.Dir), id(last.Dir), oldReport)
	}
	if log := o.Log.(*bytes.Buffer).String(); !strings.Contains(log, "again     stage "+moco.Dir+": job "+id(moco.Dir)+" FAILED (NonZeroExitCode); log ") ||
		!strings.Contains(log, "again     cell "+last.Dir+": job "+id(last.Dir)+" waits on a job replaced now; cancelled") {
		t.Errorf("the second submission does not say why the stage goes again:\n%s", log)
	}

	// Third: the new MoCo stage runs; the rest is queued. Nothing is submitted, the report
	// job is kept.
	f2.jobs[f2.byOnly(t, moco.Dir).id] = SlurmJob{ID: f2.byOnly(t, moco.Dir).id, State: "RUNNING", Reason: "None"}
	f3 := &fakeSlurm{next: 80, jobs: f2.jobs}
	sub, err = Submit(p, f3, slurmOptions(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(f3.submits) != 0 || len(sub.Kept) != 4 || sub.Report != f2.byOnly(t, reportEntry).id || len(f3.cancelled) != 0 {
		t.Errorf("third submission: %+v, submitted %v, cancelled %v", sub, f3.submits, f3.cancelled)
	}

	// Once every folder is finished, a submission submits nothing and writes the report.
	for _, st := range p.Stages {
		finishFolder(t, out, st.Dir, st.Key, 0)
	}
	for i, c := range p.Cells {
		finishFolder(t, out, c.Dir, c.Key, 0.25*float64(i+1))
	}
	f4 := &fakeSlurm{jobs: map[string]SlurmJob{}}
	sub, err = Submit(p, f4, slurmOptions(out))
	if err != nil {
		t.Fatal(err)
	}
	md, _ := os.ReadFile(filepath.Join(out, ResultsFile))
	if len(f4.submits) != 0 || sub.Results == "" || !strings.Contains(string(md), "| MoCo + PLMoCo | MoCoFCN | 75.0 |") {
		t.Errorf("final submission %+v; results.md:\n%s", sub, md)
	}
}

func TestParseSlurmOutput(t *testing.T) {
	got := parseSqueue("12|RUNNING|None\n13|PENDING|Dependency\n\n14|CANCELLED|DependencyNeverSatisfied\n")
	want := map[string]SlurmJob{"12": {"12", "RUNNING", "None"}, "13": {"13", "PENDING", "Dependency"}, "14": {"14", "CANCELLED", "DependencyNeverSatisfied"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("squeue: %v", got)
	}
	if a := parseSacct("12|COMPLETED\n13|CANCELLED by 0\n"); a["13"].State != "CANCELLED" || a["12"].State != "COMPLETED" {
		t.Errorf("sacct: %v", a)
	}
	for in, want := range map[string]string{"42\n": "42", "43;cluster\n": "43"} {
		if id, err := parseSbatch(in); id != want || err != nil {
			t.Errorf("sbatch %q: %q, %v", in, id, err)
		}
	}
	if _, err := parseSbatch("sbatch: error: Batch job submission failed"); err == nil {
		t.Error("an sbatch error read as a job ID")
	}
	for _, j := range []SlurmJob{{State: "PENDING", Reason: "Resources"}, {State: "RUNNING"}, {State: "COMPLETING"}} {
		if !j.Active() {
			t.Errorf("%+v is not active", j)
		}
	}
	for _, j := range []SlurmJob{{State: "PENDING", Reason: "DependencyNeverSatisfied"}, {State: "FAILED"}, {State: "COMPLETED"}, {State: "TIMEOUT"}} {
		if j.Active() {
			t.Errorf("%+v is active", j)
		}
	}
	if q := shellQuote("it's"); q != `'it'\''s'` {
		t.Errorf("quote: %s", q)
	}
}

func TestGridSlurmTable(t *testing.T) {
	g, err := Parse([]byte(slurmGrid), "g.toml")
	if err != nil {
		t.Fatal(err)
	}
	s := g.Slurm
	wantStage := SlurmResources{Partition: "gpu", Account: "lab", Time: "1-00:00:00", GPUs: 1, CPUs: 8, Mem: "32G", Args: []string{"--qos=normal"}}
	wantCell := wantStage
	wantCell.Time, wantCell.GPUs = "4:00:00", 2
	wantReport := SlurmResources{Partition: "gpu", Account: "lab", Time: "30:00", CPUs: 1, Args: []string{"--qos=normal"}}
	if fmt.Sprint(s.Stage) != fmt.Sprint(wantStage) || fmt.Sprint(s.Cell) != fmt.Sprint(wantCell) || fmt.Sprint(s.Report) != fmt.Sprint(wantReport) {
		t.Errorf("[slurm]:\n%+v\n%+v\n%+v", s.Stage, s.Cell, s.Report)
	}
	part, gpus := "short", 0
	o := s.Apply(SlurmOverride{Partition: &part, GPUs: &gpus, Args: []string{"--x"}})
	if o.Stage.Partition != "short" || o.Cell.GPUs != 0 || o.Report.Partition != "short" || o.Report.Time != "30:00" ||
		!slices.Equal(o.Cell.Args, []string{"--qos=normal", "--x"}) || !slices.Equal(s.Cell.Args, []string{"--qos=normal"}) {
		t.Errorf("overrides: %+v (original %+v)", o, s)
	}
	if g, err := Parse([]byte(tiny), "g.toml"); err != nil || g.Slurm.Cell.GPUs != 0 || g.Slurm.Report.CPUs != 1 {
		t.Errorf("no [slurm]: %+v, %v", g.Slurm, err)
	}
	for src, want := range map[string]string{
		"[slurm]\npartitoin = \"gpu\"\n":       "unknown key slurm.partitoin ([slurm] has partition",
		"[slurm.cell]\ngpus = 1\n":             "unknown key slurm.cell.gpus",
		"[slurm]\ntime = \"4 hours\"\n":        `[slurm]: time "4 hours"; want Slurm's format`,
		"[slurm.stage]\ngpus-per-job = -1\n":   "[slurm.stage]: gpus-per-job -1; want ≥ 0",
		"[slurm]\nsbatch-args = [\"qos=x\"]\n": `sbatch-args "qos=x": each entry is one sbatch option`,
	} {
		_, err := Parse([]byte(tiny+src), "g.toml")
		var ge *GridError
		if err == nil || !strings.Contains(err.Error(), want) || !asGridError(err, &ge) {
			t.Errorf("%q: %v, want a GridError with %q", src, err, want)
		}
	}
}

func asGridError(err error, ge **GridError) bool {
	e, ok := err.(*GridError)
	*ge = e
	return ok
}

// --only refuses a stage or cell whose stage is not finished, and an ID the plan lacks.
func TestRunOnlyRefuses(t *testing.T) {
	p := mustPlan(t, tiny, PlanOptions{})
	out := t.TempDir()
	for id, want := range map[string]string{
		p.Cells[1].Dir:  "it starts from stage " + p.Stages[0].Dir + ", which is not finished in " + out + "; run that first (--only " + p.Stages[0].Dir + ")",
		p.Stages[1].Key: "it starts from stage " + p.Stages[0].Dir,
		"cells/nope":    "--only cells/nope: no stage, cell or probe of the plan has that folder or key",
	} {
		_, err := RunOnly(t.Context(), p, Options{Out: out}, id)
		var ge *GridError
		if err == nil || !strings.Contains(err.Error(), want) || !asGridError(err, &ge) {
			t.Errorf("--only %s: %v, want a GridError with %q", id, err, want)
		}
	}
}

// Running every stage and cell with RunOnly, one at a time in plan order, as the Slurm jobs
// do, gives the records Run gives, bit for bit; a finished one is reused, and Report writes
// the same table.
func TestRunOnlyMatchesRun(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	p := mustPlan(t, strings.Replace(tiny, "iters = 4\nlr = 0.05", "iters = 20\nlr = 0.2", 1), PlanOptions{})
	whole, one := t.TempDir(), t.TempDir()
	if _, err := Run(t.Context(), p, Options{Out: whole, Log: io.Discard, OrtLib: lib}); err != nil {
		t.Fatal(err)
	}
	for _, j := range p.jobs() {
		res, err := RunOnly(t.Context(), p, Options{Out: one, Log: io.Discard, OrtLib: lib}, j.dir())
		if err != nil || res.Done[j.dir()] != Ran {
			t.Fatalf("--only %s: %v, %v", j.dir(), res, err)
		}
	}
	if exists(filepath.Join(one, ResultsFile)) {
		t.Error("RunOnly wrote results.md")
	}
	if res, err := RunOnly(t.Context(), p, Options{Out: one, Log: io.Discard, OrtLib: lib}, p.Cells[2].Key); err != nil || res.Done[p.Cells[2].Dir] != Reused {
		t.Errorf("--only a finished cell: %v, %v", res, err)
	}
	distinct := map[float64]bool{}
	for _, c := range p.Cells {
		a, _ := readRecord(filepath.Join(whole, c.Dir))
		b, _ := readRecord(filepath.Join(one, c.Dir))
		if a == nil || b == nil || !reflect.DeepEqual(*a.Scores, *b.Scores) || a.Steps != b.Steps {
			t.Fatalf("%s: Run %+v, RunOnly %+v", c.Dir, a, b)
		}
		distinct[a.Scores.MIoU] = true
	}
	if len(distinct) < 2 {
		t.Errorf("the cells score alike (%v): equal records would not show equal runs", distinct)
	}
	res, err := Report(p, one)
	if err != nil {
		t.Fatal(err)
	}
	ta, _ := os.ReadFile(filepath.Join(whole, ResultsFile))
	tb, _ := os.ReadFile(res.Results)
	cut := func(b []byte) string { s, _, _ := strings.Cut(string(b), "## Time"); return s }
	if cut(ta) != cut(tb) || strings.Contains(string(tb), "Incomplete") {
		t.Errorf("results.md from Run:\n%s\nfrom RunOnly and Report:\n%s", ta, tb)
	}
}
