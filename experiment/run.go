package experiment

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ssl4dp/ssl4dp/export"
	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/plot"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// Options say where and how a plan runs.
type Options struct {
	Out    string    // the experiment folder: stages/, cells/, plan.json, results.md, results.png
	Log    io.Writer // headers, the runs' own progress and summaries (nil: os.Stderr)
	OrtLib string    // onnxruntime library for export checks and evaluation ("": found as usual)
	// Jobs is how many stages and cells may run at once (0: 1, one after another). A job
	// starts as soon as the stages it reads have finished; the log still shows each job's
	// output whole and in plan order. Results do not depend on it; memory use grows with it
	// (each running job holds its own networks and data).
	Jobs int
	// Device is where the jobs train: "" or "cpu", "emulated" or "cuda" (experiment/device.go:
	// the cells and the stages whose method runs there; recorded, not part of any key).
	Device string
	// TF32 gives the jobs on cuda --tf32 (cuBLAS's TF32 tensor cores).
	TF32 bool
}

// Status is what happened to a stage or cell in one Run.
type Status string

const (
	Ran     Status = "ran"     // started and finished in this call
	Resumed Status = "resumed" // continued from the folder's latest checkpoint and finished
	Reused  Status = "reused"  // finished earlier (done.json): nothing was run
)

// Result is what Run did and the table it wrote.
type Result struct {
	Plan    *Plan
	Done    map[string]Status // by folder (Stage.Dir, Cell.Dir)
	Table   *Table
	Results string // results.md
	Chart   string // results.png
}

// Run runs every stage and cell of the plan, skipping finished ones and resuming interrupted
// ones, and rewrites results.md and results.png after every cell. With Options.Jobs > 1,
// jobs whose inputs are ready run side by side. A cancelled ctx stops the runs in progress
// after their current step with a checkpoint; Run then returns the engine's
// *train.InterruptedError, and calling Run again continues there. After an error in one job
// the others running are stopped the same way, and Run returns that error.
func Run(ctx context.Context, p *Plan, o Options) (*Result, error) {
	if o.Out == "" {
		return nil, &GridError{File: p.Grid.Source, Msg: "no experiment folder (--out)"}
	}
	if err := o.prepare(); err != nil {
		return nil, err
	}
	if err := writePlan(o.Out, p); err != nil {
		return nil, err
	}
	r := &runner{p: p, o: o, res: &Result{Plan: p, Done: map[string]Status{}},
		total: len(p.Stages) + len(p.Cells) + len(p.Probes), log: newOrderedLog(o.Log)}
	for _, s := range p.Skipped {
		fmt.Fprintf(o.Log, "experiment: row %q skipped: %s\n", s.Row, s.Reason)
	}
	err := schedule(ctx, p.jobs(), o.Jobs, r.job)
	r.log.flush()
	if err != nil {
		return r.res, err
	}
	if len(p.Cells)+len(p.Probes) == 0 {
		if err := r.results(); err != nil {
			return r.res, err
		}
	}
	return r.res, nil
}

// prepare defaults the log, loads onnxruntime and makes the experiment folder.
func (o *Options) prepare() error {
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if err := ort.Init(o.OrtLib); err != nil {
		return fmt.Errorf("experiment: export checks and evaluation use onnxruntime: %w", err)
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	return nil
}

type runner struct {
	p     *Plan
	o     Options
	total int
	log   *orderedLog

	mu  sync.Mutex // res, and results.md/png
	res *Result
}

func (r *runner) path(rel string) string { return filepath.Join(r.o.Out, rel) }

func header(log io.Writer, n, total int, what, dir string) {
	fmt.Fprintf(log, "\n== [%d/%d] %s → %s\n", n, total, what, dir)
}

func (r *runner) setDone(dir string, st Status) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.res.Done[dir] = st
}

// job runs one stage, or one cell followed by the rewrite of the results.
func (r *runner) job(ctx context.Context, j *job) error {
	log := r.log.writer(j.n)
	defer r.log.done(j.n)
	if j.stage != nil {
		return r.stage(ctx, log, j.n, j.stage)
	}
	if j.probe != nil {
		if err := r.probe(ctx, log, j.n, j.probe); err != nil {
			return err
		}
		return r.results()
	}
	if err := r.cell(ctx, log, j.n, j.cell); err != nil {
		return err
	}
	return r.results()
}

// stage runs one pre-training stage unless it is finished.
func (r *runner) stage(ctx context.Context, log io.Writer, n int, st *Stage) error {
	dir := r.path(st.Dir)
	what := fmt.Sprintf("pre-train %s, seed %d (%s)", st.Method, st.Seed, strings.Join(st.Rows, "; "))
	rec, err := finished(dir, st.Key)
	if err != nil {
		return err
	}
	header(log, n, r.total, what, dir)
	if rec != nil {
		fmt.Fprintf(log, "finished earlier (%s): %d steps, %.1f epochs, %s\n", DoneFile, rec.Steps, rec.Epochs, seconds(rec.TrainS))
		r.setDone(st.Dir, Reused)
		return nil
	}
	args := append(append([]string(nil), st.Args...), "--out="+dir)
	switch {
	case st.Parent != nil:
		args = append(args, "--init="+r.path(st.Parent.Output(TransferEncoder)))
	case st.Init != "":
		args = append(args, "--init="+st.Init)
	}
	args = append(args, r.stageDevice(log, st.Method)...)
	run, err := parseStage(st.Method, args, false)
	if err != nil {
		return &GridError{File: r.p.Grid.Source, Msg: fmt.Sprintf("stage %s: %v", st.Dir, err)}
	}
	status := resumeStatus(log, dir)
	if err := run(ctx, log, status == Resumed); err != nil {
		return err
	}
	ri, err := train.ReadRunInfo(dir)
	if err != nil {
		return err
	}
	if err := curves(dir, filepath.Join(dir, "curves.png"), st.Dir); err != nil {
		return err
	}
	rec = &Record{Kind: "stage", Key: st.Key, Method: st.Method, Seed: st.Seed, Args: st.Args, Device: recordedDevice(args),
		Steps: ri.Steps, Epochs: ri.Epochs, TrainS: ri.TimeS, TotalS: ri.TimeS, Finished: time.Now().UTC()}
	if err := writeRecord(dir, rec); err != nil {
		return err
	}
	r.setDone(st.Dir, status)
	return nil
}

// cell fine-tunes, exports and evaluates one cell unless it is finished.
func (r *runner) cell(ctx context.Context, log io.Writer, n int, c *Cell) error {
	dir := r.path(c.Dir)
	rec, err := finished(dir, c.Key)
	if err != nil {
		return err
	}
	header(log, n, r.total, fmt.Sprintf("fine-tune %s from %s, seed %d (from %s)", c.Head, c.Row, c.Seed, c.Origin()), dir)
	if rec != nil {
		fmt.Fprintf(log, "finished earlier (%s): mIoU %.2f%%\n", DoneFile, 100*rec.Scores.MIoU)
		r.setDone(c.Dir, Reused)
		return nil
	}
	runDir := filepath.Join(dir, "train")
	args := append(append([]string(nil), c.Args...), "--out="+runDir)
	if init := r.cellInit(c); init != "" {
		args = append(args, "--init="+init)
	}
	args = append(args, r.cellDevice()...)
	pf, err := parseFinetune(args, false)
	if err != nil {
		return &GridError{File: r.p.Grid.Source, Msg: fmt.Sprintf("cell %s: %v", c.Dir, err)}
	}
	status := resumeStatus(log, runDir)
	pf.Flags.Resume = status == Resumed
	if err := pf.Flags.Run(ctx, log, pf.Given); err != nil {
		return err
	}
	start := time.Now()
	if err := curves(runDir, filepath.Join(dir, "curves.png"), c.Dir); err != nil {
		return err
	}
	model := filepath.Join(dir, "model.onnx")
	if err := exportRun(runDir, model); err != nil {
		return err
	}
	overlays := ""
	if r.p.Grid.Eval.Overlays > 0 {
		overlays = filepath.Join(dir, "overlays")
	}
	data, _ := flagValue(c.Args, "data")
	ev, err := evaluateModel(model, data, r.p.Grid.Eval, overlays)
	if err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "eval.json"), ev); err != nil {
		return err
	}
	ri, err := train.ReadRunInfo(runDir)
	if err != nil {
		return err
	}
	rec = &Record{Kind: "cell", Key: c.Key, Row: c.Row, Head: c.Head, Seed: c.Seed, Args: c.Args, Device: recordedDevice(args), Steps: ri.Steps,
		Epochs: ri.Epochs, TrainS: ri.TimeS, TotalS: ri.TimeS + time.Since(start).Seconds(), Scores: &ev.Scores,
		Finished: time.Now().UTC()}
	if v, ok := ri.Metrics["mIoU"]; ok {
		rec.TrainMIoU = &v
	}
	fmt.Fprintf(log, "%s: mIoU %.2f%% on %d val images (onnxruntime, %s)\n", c.Dir, 100*ev.Scores.MIoU, ev.Images, model)
	if err := writeRecord(dir, rec); err != nil {
		return err
	}
	r.setDone(c.Dir, status)
	return nil
}

// cellInit is the file fine-tuning loads: the chain's last output, the row's checkpoint,
// or nothing.
func (r *runner) cellInit(c *Cell) string {
	if n := len(c.Stages); n > 0 {
		return r.path(c.Stages[n-1].Output(c.Transfer))
	}
	return c.Init
}

// resumeStatus is Resumed when a run folder already holds a run (config.json), else Ran.
func resumeStatus(log io.Writer, dir string) Status {
	if _, err := os.Stat(filepath.Join(dir, train.ConfigFile)); err == nil {
		fmt.Fprintf(log, "continuing the interrupted run in %s\n", dir)
		return Resumed
	}
	return Ran
}

// results collects the finished cells and rewrites results.md and results.png.
func (r *runner) results() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	t, err := Collect(r.p, r.o.Out)
	if err != nil {
		return err
	}
	r.res.Table = t
	r.res.Results = filepath.Join(r.o.Out, ResultsFile)
	r.res.Chart = filepath.Join(r.o.Out, ChartFile)
	if err := atomicfile.WriteFile(r.res.Results, []byte(t.Markdown()), 0o644); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	return t.SaveChart(r.res.Chart)
}

// exportRun writes a fine-tuned run's inference model: dynamic batch and size, checked
// against Gorgonia at the run's crop, with the run's metadata.
func exportRun(runDir, model string) error {
	src, err := export.Open(runDir)
	if err != nil {
		return err
	}
	info, err := src.Info()
	if err != nil {
		return err
	}
	size := src.InputSize()
	res, err := export.Export(src.Model, export.Options{Dynamic: true, H: size, W: size, Info: info})
	if err != nil {
		return err
	}
	return onnx.WriteFile(model, res.Model)
}

// curves draws a run's metrics.jsonl to a PNG.
func curves(runDir, out, title string) error {
	lg, err := runlog.ReadFile(runDir)
	if err != nil {
		return err
	}
	return plot.SavePNG(out, lg, plot.Options{Title: title})
}

// planFile records the plan in the experiment folder: which folder is which stage or cell.
const planFile = "plan.json"

type planDoc struct {
	Grid    string      `json:"grid"`
	Stages  []planStage `json:"stages"`
	Cells   []planCell  `json:"cells"`
	Probes  []planProbe `json:"probes,omitempty"`
	Skipped []Skipped   `json:"skipped,omitempty"`
	Written time.Time   `json:"written"`
	Seeds   []uint64    `json:"seeds"`
	Heads   []string    `json:"heads"`
	Rows    []string    `json:"rows"`
	Data    string      `json:"data"`
}

type planStage struct {
	Dir    string   `json:"dir"`
	Method string   `json:"method"`
	Seed   uint64   `json:"seed"`
	Parent string   `json:"parent,omitempty"`
	Init   string   `json:"init,omitempty"`
	Rows   []string `json:"rows"`
	Args   []string `json:"args"`
}

type planCell struct {
	Dir  string   `json:"dir"`
	Row  string   `json:"row"`
	Head string   `json:"head"`
	Seed uint64   `json:"seed"`
	From string   `json:"from"`
	Args []string `json:"args"`
}

type planProbe struct {
	Dir      string `json:"dir"`
	Row      string `json:"row"`
	Protocol string `json:"protocol"`
	Seed     uint64 `json:"seed"`
	From     string `json:"from"`
}

func writePlan(out string, p *Plan) error {
	d := planDoc{Grid: p.Grid.Source, Skipped: p.Skipped, Written: time.Now().UTC(), Seeds: p.Grid.Seeds, Data: p.Grid.Data}
	for _, h := range p.Grid.Heads {
		d.Heads = append(d.Heads, h.Name)
	}
	for _, r := range p.Grid.Rows {
		d.Rows = append(d.Rows, r.Name)
	}
	for _, s := range p.Stages {
		ps := planStage{Dir: s.Dir, Method: s.Method, Seed: s.Seed, Init: s.Init, Rows: s.Rows, Args: s.Args}
		if s.Parent != nil {
			ps.Parent = s.Parent.Dir
		}
		d.Stages = append(d.Stages, ps)
	}
	for _, c := range p.Cells {
		d.Cells = append(d.Cells, planCell{Dir: c.Dir, Row: c.Row, Head: c.Head, Seed: c.Seed, From: c.Origin(), Args: c.Args})
	}
	for _, pr := range p.Probes {
		d.Probes = append(d.Probes, planProbe{Dir: pr.Dir, Row: pr.Row, Protocol: pr.Protocol, Seed: pr.Seed, From: pr.Origin()})
	}
	return writeJSON(filepath.Join(out, planFile), d)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("experiment: encoding %s: %w", filepath.Base(path), err)
	}
	if err := atomicfile.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	return nil
}

// seconds formats a duration in seconds as 1h02m, 3m05s or 12.3s.
func seconds(s float64) string {
	d := time.Duration(s * float64(time.Second))
	switch {
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	case d >= time.Minute:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%.1fs", s)
}
