package experiment

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// find returns the plan's job (a stage or a cell) whose folder — Stage.Dir or Cell.Dir, as
// plan.json, --dry-run and the Slurm job names show it — or key is id, or nil.
func (p *Plan) find(id string) *job {
	id = strings.TrimSuffix(filepath.ToSlash(filepath.Clean(id)), "/")
	for _, j := range p.jobs() {
		dir, key := j.dir(), j.key()
		if id == filepath.ToSlash(dir) || id == key {
			return j
		}
	}
	return nil
}

func (j *job) dir() string {
	switch {
	case j.stage != nil:
		return j.stage.Dir
	case j.probe != nil:
		return j.probe.Dir
	}
	return j.cell.Dir
}

func (j *job) key() string {
	switch {
	case j.stage != nil:
		return j.stage.Key
	case j.probe != nil:
		return j.probe.Key
	}
	return j.cell.Key
}

// what names a job for messages and Slurm job names: "stage stages/moco-s1-…".
func (j *job) what() string {
	switch {
	case j.stage != nil:
		return "stage " + j.stage.Dir
	case j.probe != nil:
		return "probe " + j.probe.Dir
	}
	return "cell " + j.cell.Dir
}

// RunOnly runs exactly one stage or cell of the plan — id is its folder (Stage.Dir,
// Cell.Dir) or key — as Run would run it: a finished one is reused, an interrupted one
// resumed. The stage it continues from must be finished; if not, RunOnly refuses with a
// *GridError naming it. It does not rewrite results.md (Report does: with Slurm, the grid's
// report job), so that jobs running side by side in one folder never race on it. This is
// what every Slurm job of `ssl4dp experiment --slurm` runs: the same code as the local
// backend, so the results are the same bits.
func RunOnly(ctx context.Context, p *Plan, o Options, id string) (*Result, error) {
	fail := func(format string, args ...any) error {
		return &GridError{File: p.Grid.Source, Msg: fmt.Sprintf(format, args...)}
	}
	if o.Out == "" {
		return nil, fail("no experiment folder (--out)")
	}
	j := p.find(id)
	if j == nil {
		return nil, fail("--only %s: no stage, cell or probe of the plan has that folder or key (see --dry-run for the list)", id)
	}
	for _, d := range j.deps {
		rec, err := finished(filepath.Join(o.Out, d.dir()), d.key())
		if err != nil {
			return nil, err
		}
		if rec == nil {
			return nil, fail("--only %s: it starts from %s, which is not finished in %s; run that first (--only %s)", j.dir(), d.what(), o.Out, d.dir())
		}
	}
	if err := o.prepare(); err != nil {
		return nil, err
	}
	r := &runner{p: p, o: o, res: &Result{Plan: p, Done: map[string]Status{}}, total: len(p.Stages) + len(p.Cells) + len(p.Probes)}
	var err error
	switch {
	case j.stage != nil:
		err = r.stage(ctx, o.Log, j.n, j.stage)
	case j.probe != nil:
		err = r.probe(ctx, o.Log, j.n, j.probe)
	default:
		err = r.cell(ctx, o.Log, j.n, j.cell)
	}
	return r.res, err
}

// Report writes results.md and results.png under out from whatever stages and cells have
// finished there (the table says how many are still pending). Each file is replaced
// atomically, so a reader never sees half a table.
func Report(p *Plan, out string) (*Result, error) {
	r := &runner{p: p, o: Options{Out: out}, res: &Result{Plan: p, Done: map[string]Status{}}}
	if err := r.results(); err != nil {
		return r.res, err
	}
	return r.res, nil
}
