package train

import (
	"fmt"
	"math"
	"time"

	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// loop runs the steps from the current state to cfg.Iters. A cancelled context ends it after
// the step in progress, with a checkpoint.
func (r *runner) loop() error {
	cfg := r.cfg
	last := time.Now()
	for r.st.Step < cfg.Iters {
		step := r.st.Step
		b, err := r.loader.Next()
		if err != nil {
			return fmt.Errorf("train: step %d: %w", step, err)
		}
		if err := r.task.Bind(b, step); err != nil {
			return fmt.Errorf("train: step %d: %w", step, err)
		}
		loss, parts, err := r.stepper.forward()
		if err != nil {
			return fmt.Errorf("train: step %d: %w", step, err)
		}
		mons, err := r.monitors()
		if err != nil {
			return fmt.Errorf("train: step %d: %w", step, err)
		}
		if step == r.nanStep {
			loss = math.NaN() // test hook: as if the loss had overflowed
		}
		bad, err := r.stepper.bindGradients()
		if err != nil {
			return fmt.Errorf("train: step %d: %w", step, err)
		}
		if !isFinite(loss) || bad != "" {
			return r.nonFinite(step, loss, parts, bad)
		}
		lr := r.sched.LR(step)
		if err := r.stepper.step(lr); err != nil {
			return fmt.Errorf("train: step %d: %w", step, err)
		}
		if err := r.task.AfterStep(step); err != nil {
			return fmt.Errorf("train: step %d: %w", step, err)
		}
		r.st.Step, r.st.Epoch, r.st.Index = step+1, b.Next.Epoch, b.Next.Index
		r.lastLoss = loss
		now := time.Now()
		ips := float64(cfg.Batch) / now.Sub(last).Seconds()
		last = now
		rec := runlog.TrainRecord{Step: step, Epoch: r.epoch(), Loss: loss, LR: lr, ImagesPerSec: ips, TimeS: r.timeS()}
		if len(parts) > 0 {
			rec.Losses = make(map[string]float64, len(parts))
			for k, v := range parts {
				rec.Losses[k] = v
			}
		}
		if len(mons) > 0 {
			rec.Monitors = make(map[string]float64, len(mons))
			for _, m := range mons {
				rec.Monitors[m.Name] = m.Value
			}
		}
		if err := r.metrics.Train(rec); err != nil {
			return err
		}
		r.progress.SetMonitors(mons)
		r.progress.Update(step, loss, lr, cfg.Batch)

		done := r.st.Step
		if cfg.ValEvery > 0 && done%cfg.ValEvery == 0 && done < cfg.Iters {
			if err := r.validate(); err != nil {
				return err
			}
		}
		interrupted := r.ctx.Err() != nil
		if done%cfg.CheckpointEvery == 0 || interrupted {
			if err := r.checkpoint(); err != nil {
				return err
			}
		}
		if interrupted && done < cfg.Iters {
			r.progress.Finish()
			return &InterruptedError{Step: done, Checkpoint: r.lastCkpt, Dir: cfg.Dir}
		}
		last = time.Now() // validation and checkpoints do not count against images/s
	}
	r.progress.Finish()
	return nil
}

// monitors are the task's health numbers of the step just run (none if it has none).
func (r *runner) monitors() ([]runlog.Monitor, error) {
	m, ok := r.task.(Monitorer)
	if !ok {
		return nil, nil
	}
	return m.Monitors()
}

// epoch is the number of passes over the training split so far.
func (r *runner) epoch() float64 {
	return float64(r.st.Epoch) + float64(r.st.Index)/float64(r.ds.Len())
}

// timeS is the run's wall time so far, across resumes.
func (r *runner) timeS() float64 {
	return r.st.TimeS + time.Since(r.started).Seconds()
}

func (r *runner) nonFinite(step int, loss float64, parts map[string]float64, bad string) error {
	r.progress.Finish()
	e := &NonFiniteError{Step: step, Loss: loss, Param: bad, Checkpoint: r.lastCkpt}
	if len(parts) > 0 {
		e.Parts = make(map[string]float64, len(parts))
		for k, v := range parts {
			e.Parts[k] = v
		}
	}
	rec := runlog.TrainRecord{Step: step, Epoch: r.epoch(), Loss: loss, Losses: e.Parts, LR: r.sched.LR(step), TimeS: r.timeS()}
	_ = r.metrics.Train(rec) // the broken step is worth seeing in the curves; the error matters more
	return e
}

// finish writes the final checkpoint, validates, and writes the task's outputs and run.json.
func (r *runner) finish() error {
	if err := r.stepper.syncHost(); err != nil {
		return err
	}
	if r.lastCkptStep != r.st.Step {
		if err := r.checkpoint(); err != nil {
			return err
		}
	}
	if r.lastValStep != r.st.Step {
		if err := r.validate(); err != nil {
			return err
		}
	}
	outs, err := r.task.Outputs()
	if err != nil {
		return err
	}
	names, err := writeOutputs(r.cfg.Dir, outs)
	if err != nil {
		return err
	}
	if err := r.writeRunInfo(names); err != nil {
		return err
	}
	fmt.Fprintf(r.log, "train %s: done, %d steps in %s; wrote %v and %s in %s\n", r.task.Name(), r.st.Step,
		time.Duration(r.timeS()*float64(time.Second)).Round(time.Second), names, RunFile, r.cfg.Dir)
	return nil
}
