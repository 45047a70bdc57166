package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/train/runlog"
	"github.com/ssl4dp/ssl4dp/train/schedule"
)

// Run trains task as cfg says, in the run folder cfg.Dir, and returns when the run is done,
// stopped or broken:
//
//   - nil: every step ran; the final checkpoint, the task's outputs (model.onnx, …), run.json
//     and metrics.jsonl are in cfg.Dir.
//   - *InterruptedError: ctx was cancelled (the CLI cancels it on SIGINT/SIGTERM); the step
//     in progress was finished and a checkpoint saved, so --resume continues exactly.
//   - *NonFiniteError: a NaN or infinite loss or gradient; the step was not applied and the
//     latest checkpoint is the last good state.
//   - *UsageError: bad settings, or a run folder that cannot be used as asked.
//   - any other error: the data, the task or the disk failed (a failed checkpoint says the
//     previous one is intact).
func Run(ctx context.Context, task Task, cfg Config) error {
	cfg = cfg.withDefaults()
	if err := cfg.check(); err != nil {
		return err
	}
	if task == nil {
		return usageErrorf("no task")
	}
	r := &runner{ctx: ctx, task: task, cfg: cfg, log: cfg.Log, lastLoss: math.NaN()}
	if r.log == nil {
		r.log = os.Stderr
	}
	defer r.close()
	if err := r.setup(); err != nil {
		return err
	}
	if err := r.loop(); err != nil {
		return err
	}
	return r.finish()
}

// runner is one call of Run.
type runner struct {
	ctx  context.Context
	task Task
	cfg  Config
	log  io.Writer

	ds       data.Dataset
	sched    schedule.Schedule
	doc      []byte // config.json as written
	hash     string
	oldHash  string          // a resumed run: legacyConfigHash of the saved config.json
	changes  []SettingChange // a resumed run: what it changes (Step set once restored)
	st       state
	started  time.Time // when this process started training (TimeS continues from st.TimeS)
	stepper  *stepper
	loader   *data.Loader
	metrics  *runlog.Writer
	progress *runlog.Progress

	lastCkpt     string             // latest complete checkpoint folder
	lastCkptStep int                // its step (−1: none)
	lastVal      map[string]float64 // scores of the latest validation
	lastValStep  int                // updates done at the latest validation (−1: none)
	lastLoss     float64
	nanStep      int // test hook: SSL4DP_TEST_NAN_STEP (−1: off)
}

func (r *runner) close() {
	if r.loader != nil {
		r.loader.Close()
	}
	if r.stepper != nil {
		r.stepper.close()
	}
	if r.metrics != nil {
		r.metrics.Close()
	}
}

// setup prepares the run folder, builds the task, the optimizer and the loader, and restores
// the latest checkpoint when resuming.
func (r *runner) setup() error {
	cfg := r.cfg
	var err error
	if r.sched, err = cfg.LR.Build(cfg.Iters); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	r.nanStep = testNaNStep()
	r.lastCkptStep, r.lastValStep = -1, -1
	if err := r.prepareDir(); err != nil {
		return err
	}
	r.ds = cfg.Dataset
	if r.ds == nil {
		if r.ds, err = data.Open(cfg.Data, data.Options{Split: "train"}); err != nil {
			return err
		}
	}
	if err := r.task.Build(cfg.Batch); err != nil {
		return err
	}
	if r.stepper, err = newStepper(r.task, cfg); err != nil {
		return err
	}
	r.st = state{Seed: cfg.Seed, ConfigHash: r.hash, Version: onnx.Version, Method: r.task.Name()}
	if cfg.Resume {
		if err := r.restore(); err != nil {
			return err
		}
		for i := range r.changes {
			r.changes[i].Step = r.st.Step
		}
		r.st.Changes = append(r.st.Changes, r.changes...)
	}
	if r.metrics, err = runlog.Open(filepath.Join(cfg.Dir, runlog.FileName)); err != nil {
		return err
	}
	r.summary()
	r.progress = runlog.NewProgress(r.log, cfg.Iters)
	if r.st.Step < cfg.Iters {
		r.loader, err = data.NewLoader(r.ds, r.task.DataTask(), data.LoaderConfig{Batch: cfg.Batch, Seed: cfg.Seed,
			Shuffle: true, DropLast: true, Start: data.Position{Epoch: r.st.Epoch, Index: r.st.Index}, Workers: cfg.Workers})
		if err != nil {
			return err
		}
	}
	r.started = time.Now()
	return nil
}

// prepareDir creates the run folder with config.json, or checks a resumed one's config.json
// against the current settings.
func (r *runner) prepareDir() error {
	cfg := r.cfg
	res := RunConfig{Method: r.task.Name(), Data: cfg.Data, Iters: cfg.Iters, Batch: cfg.Batch, Seed: cfg.Seed,
		Schedule: r.sched, CheckpointEvery: cfg.CheckpointEvery, Keep: cfg.Keep, ValEvery: cfg.ValEvery,
		Workers: cfg.Workers, Mean: cfg.Mean, Std: cfg.Std, Task: cfg.Settings,
		Optimizer: OptimizerConfig{Name: "sgd", Momentum: cfg.Optim.Momentum, WeightDecay: cfg.Optim.WeightDecay,
			Nesterov: cfg.Optim.Nesterov, MaxGradNorm: cfg.Optim.MaxGradNorm, DecayAll: cfg.Optim.DecayAll,
			EncoderLRMult: cfg.EncoderLRMult}}
	if res.Data == "" {
		res.Data = cfg.Dataset.Name()
	}
	doc, err := marshalJSON(res)
	if err != nil {
		return err
	}
	if r.hash, err = configHash(doc); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	r.doc = doc
	path := filepath.Join(cfg.Dir, ConfigFile)
	saved, err := os.ReadFile(path)
	switch {
	case err == nil && !cfg.Resume:
		return usageErrorf("%s already holds a run (%s); pass --resume to continue it, or choose another --out", cfg.Dir, ConfigFile)
	case errors.Is(err, os.ErrNotExist) && cfg.Resume:
		return usageErrorf("--resume: %s holds no run to continue (no %s)", cfg.Dir, ConfigFile)
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("train: %w", err)
	}
	if cfg.Resume {
		diffs, changes, err := configDiff(saved, doc)
		if err != nil {
			return usageErrorf("--resume: %s: %v", path, err)
		}
		if len(diffs) > 0 {
			return usageErrorf("--resume: the settings differ from the saved run's in %s; only --iters, --val-every, --checkpoint-every, --keep and --workers may change, and the LR schedule (--lr, --schedule, --final-lr, --power, --milestones, --gamma, --warmup, --warmup-start) and --max-grad-norm when given",
				joinLimit(diffs, 6))
		}
		r.changes = changes
		if r.oldHash, err = legacyConfigHash(saved); err != nil {
			return usageErrorf("--resume: %s: %v", path, err)
		}
	} else if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	if err := atomicfile.WriteFile(path, doc, 0o644); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

// summary prints what the run will do.
func (r *runner) summary() {
	cfg := r.cfg
	fmt.Fprintf(r.log, "train %s: %s, %d images, batch %d, %d steps (%.1f epochs), seed %d\n", r.task.Name(), r.ds.Name(),
		r.ds.Len(), cfg.Batch, cfg.Iters, float64(cfg.Iters*cfg.Batch)/float64(r.ds.Len()), cfg.Seed)
	fmt.Fprintf(r.log, "  lr: %s\n", r.sched)
	o := cfg.Optim
	line := fmt.Sprintf("  sgd: momentum %g", o.Momentum)
	if o.Nesterov {
		line += " (Nesterov)"
	}
	line += fmt.Sprintf(", weight decay %g", o.WeightDecay)
	if !o.DecayAll && o.WeightDecay > 0 {
		line += " (not on BatchNorm or biases)"
	}
	if o.MaxGradNorm > 0 {
		line += fmt.Sprintf(", gradients clipped to norm %g", o.MaxGradNorm)
	}
	fmt.Fprintf(r.log, "%s; %d parameter tensors (%s values)\n", line, len(r.stepper.params), countValues(r.stepper.params))
	for _, g := range r.stepper.opt.Groups() {
		fmt.Fprintf(r.log, "    %s\n", g)
	}
	val := "no validation"
	if _, ok := r.task.(Validator); ok {
		val = "validation at the end"
		if cfg.ValEvery > 0 {
			val = fmt.Sprintf("validation every %d steps and at the end", cfg.ValEvery)
		}
	}
	fmt.Fprintf(r.log, "  %s; checkpoints every %d steps (keeping %d) in %s\n", val, cfg.CheckpointEvery, cfg.Keep,
		filepath.Join(cfg.Dir, "checkpoints"))
	if r.lastCkpt != "" {
		fmt.Fprintf(r.log, "  resumed from %s: step %d of %d\n", r.lastCkpt, r.st.Step, cfg.Iters)
	}
	if len(r.changes) > 0 {
		parts := make([]string, len(r.changes))
		for i, c := range r.changes {
			parts[i] = c.String()
		}
		fmt.Fprintf(r.log, "  changed at step %d: %s (from this step on; recorded in %s)\n", r.st.Step, strings.Join(parts, "; "), RunFile)
	}
}

func countValues(ps []*paramRef) string {
	n := 0
	for _, p := range ps {
		n += len(p.p.Value)
	}
	switch {
	case n >= 1e6:
		return fmt.Sprintf("%.2fM", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

// joinLimit joins up to n items with "; " and says how many more there are.
func joinLimit(items []string, n int) string {
	s := ""
	for i, it := range items {
		if i == n {
			return s + fmt.Sprintf("; and %d more", len(items)-n)
		}
		if i > 0 {
			s += "; "
		}
		s += it
	}
	return s
}
