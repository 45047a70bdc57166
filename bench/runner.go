package bench

import (
	"fmt"
	"time"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/optim"
)

// The optimizer of the timed step: SGD with momentum 0.9 at a fixed learning rate, one group,
// no weight decay, as scripts/bench_torch.py runs torch.optim.SGD.
const (
	trainLR       = 0.01
	trainMomentum = 0.9
)

// runner runs training steps of a built Step the way the training engine does
// (train/stepper.go): one TapeMachine for forward and backward, gradients read from the
// gradient nodes of each run, the SGD update in place on the parameters' storage.
type runner struct {
	s      Step
	learn  []importer.Param
	vm     G.VM
	params []*optim.Param
	opt    *optim.SGD
	work   Work // counted on the forward graph, before differentiation
	phases phaseTimes
	dev    *train.DeviceSteps // --device emulated or cuda, else nil
	plan   *ops.MemoryPlan    // the CPU step's shared buffers, nil without
}

// phaseTimes is where the steps' time went, summed over steps: each part of a step (see
// runner.step).
type phaseTimes struct{ Bind, Run, Optimizer, AfterStep phase }

// phase is one part's wall time and how much of it ran inside ops (ops' profile, when one is
// active).
type phase struct{ total, inOps float64 }

// outside is the part's time outside ops.
func (p phase) outside() float64 { return max(p.total-p.inOps, 0) }

// timed runs fn, adding its wall time and the ops time it contained to p.
func (p *phase) timed(fn func() error) error {
	prof := ops.ActiveProfile()
	var before float64
	if prof != nil {
		before = prof.Seconds()
	}
	t := time.Now()
	err := fn()
	p.total += time.Since(t).Seconds()
	if prof != nil {
		p.inOps += prof.Seconds() - before
	}
	return err
}

// newRunner builds the step for batch, counts its work, differentiates the loss with respect
// to its learnables and compiles the machine.
func newRunner(s Step, batch int) (*runner, error) { return newRunnerOn(s, batch, "") }

// newRunnerOn is newRunner with the steps on device ("", "cpu": the host; "emulated",
// "cuda": resident on that device, train.DeviceSteps).
func newRunnerOn(s Step, batch int, device string) (*runner, error) {
	return newRunnerPlanned(s, batch, device, false, &ops.PlanOptions{})
}

// newRunnerPlanned is newRunnerOn with the CPU step's memory plan under these options (nil:
// none), as the training engine plans it (train.PlanMemory): the loss and what the task's
// KeepNodes name stay readable after a pass. A device step is not planned; tf32 is cuBLAS's
// TF32 mode on cuda.
func newRunnerPlanned(s Step, batch int, device string, tf32 bool, plan *ops.PlanOptions) (*runner, error) {
	if err := s.Build(batch); err != nil {
		return nil, err
	}
	r := &runner{s: s, learn: s.Learnables()}
	if len(r.learn) == 0 || s.Loss() == nil {
		return nil, fmt.Errorf("bench: %s: no parameters or no loss after Build", s.Name())
	}
	var err error
	if r.work, err = graphWork(s.Graph(), r.learn); err != nil {
		return nil, err
	}
	nodes := make(G.Nodes, len(r.learn))
	for i, p := range r.learn {
		nodes[i] = p.Node
		v, ok := p.Node.Value().Data().([]float32)
		if !ok {
			return nil, fmt.Errorf("bench: %s: parameter %q holds %T, want []float32", s.Name(), p.Name, p.Node.Value().Data())
		}
		r.params = append(r.params, &optim.Param{Name: p.Name, Shape: p.Shape, Value: v, Grad: make([]float32, len(v))})
	}
	if _, err := G.Grad(s.Loss(), nodes...); err != nil {
		return nil, fmt.Errorf("bench: %s: differentiating the loss: %w", s.Name(), err)
	}
	if r.opt, err = optim.New(r.params, optim.Config{Momentum: trainMomentum}, nil); err != nil {
		return nil, err
	}
	// No BindDualValues: with it, Gorgonia v0.9.18 adds each run's gradient into the
	// parameter's dual value, so gradients would accumulate across steps.
	if device != "" && device != "cpu" {
		if r.dev, err = train.NewDeviceSteps(s, s.Graph(), device, tf32, nodes, r.params, r.opt); err != nil {
			return nil, err
		}
		return r, nil
	}
	r.vm = G.NewTapeMachine(s.Graph())
	if plan != nil {
		keep := G.Nodes{s.Loss()}
		if k, ok := s.(train.Keeper); ok {
			keep = append(keep, k.KeepNodes()...)
		}
		if r.plan, err = ops.PlanMemoryWith(s.Graph(), *plan, keep...); err != nil {
			r.vm.Close()
			return nil, fmt.Errorf("bench: %s: %w", s.Name(), err)
		}
	}
	return r, nil
}

// step runs step i on batch b and returns its loss.
func (r *runner) step(b *data.Batch, i int) (float64, error) {
	ph := &r.phases
	if r.dev != nil {
		return r.deviceStep(b, i)
	}
	r.vm.Reset()
	if err := ph.Bind.timed(func() error { return r.s.Bind(b, i) }); err != nil {
		return 0, err
	}
	if err := ph.Run.timed(r.vm.RunAll); err != nil {
		return 0, fmt.Errorf("bench: %s step %d: %w", r.s.Name(), i, err)
	}
	err := ph.Optimizer.timed(func() error {
		if err := r.collectGrads(); err != nil {
			return err
		}
		return r.opt.Step(trainLR)
	})
	if err != nil {
		return 0, err
	}
	if err := ph.AfterStep.timed(func() error { return r.s.AfterStep(i) }); err != nil {
		return 0, err
	}
	return scalar(r.s.Loss())
}

// collectGrads points each optimizer parameter at this run's gradient (the machine may
// allocate it anew after Reset) and its current value.
func (r *runner) collectGrads() error {
	for i, p := range r.learn {
		g, err := p.Node.Grad()
		if err != nil {
			return fmt.Errorf("bench: %s: gradient of %q: %w", r.s.Name(), p.Name, err)
		}
		d, ok := g.Data().([]float32)
		if !ok || len(d) != len(r.params[i].Value) {
			return fmt.Errorf("bench: %s: gradient of %q holds %T (%d values), want %d float32", r.s.Name(), p.Name, g.Data(), len(d), len(r.params[i].Value))
		}
		r.params[i].Grad = d
		r.params[i].Value = p.Node.Value().Data().([]float32)
	}
	return nil
}

// deviceStep is step on the device: the pass (the batch copied in through pinned staging)
// and the SGD update there; the loss comes out as a scalar.
func (r *runner) deviceStep(b *data.Batch, i int) (float64, error) {
	ph := &r.phases
	if err := ph.Bind.timed(func() error { return r.s.Bind(b, i) }); err != nil {
		return 0, err
	}
	if err := ph.Run.timed(r.dev.Run); err != nil {
		return 0, fmt.Errorf("bench: %s step %d: %w", r.s.Name(), i, err)
	}
	if err := ph.Optimizer.timed(func() error { return r.dev.Update(trainLR) }); err != nil {
		return 0, fmt.Errorf("bench: %s step %d: %w", r.s.Name(), i, err)
	}
	if err := ph.AfterStep.timed(func() error { return r.s.AfterStep(i) }); err != nil {
		return 0, err
	}
	return scalar(r.s.Loss())
}

func (r *runner) close() {
	if r.dev != nil {
		r.dev.Close()
		return
	}
	r.vm.Close()
	if r.plan != nil {
		r.plan.Release()
	}
}
