package train

import (
	"fmt"
	"sort"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/train/optim"
)

// paramRef ties a learnable node to the optimizer's view of it.
type paramRef struct {
	node *G.Node
	p    *optim.Param
}

// stepper runs one training step of a built task: forward and backward through one
// TapeMachine, then the SGD update on the nodes' own storage.
type stepper struct {
	vm        G.VM
	params    []*paramRef
	opt       *optim.SGD
	loss      *G.Node
	partNames []string
	parts     []*G.Node
	partVals  map[string]float64 // reused each step
	dev       *devRun            // --device emulated or cuda, else nil
	plan      *ops.MemoryPlan    // the CPU step's shared buffers; nil with Config.NoMemoryPlan or a device
}

// newStepper differentiates the task's loss with respect to its learnables and builds the
// machine and the optimizer with the task's parameter groups.
func newStepper(task Task, cfg Config) (*stepper, error) {
	learn := task.Learnables()
	if len(learn) == 0 {
		return nil, fmt.Errorf("train: task %s has no parameters to train", task.Name())
	}
	loss := task.Loss()
	if loss == nil || task.Graph() == nil {
		return nil, fmt.Errorf("train: task %s has no loss or graph (was Build called?)", task.Name())
	}
	if n := loss.Shape().TotalSize(); n != 1 && !loss.IsScalar() {
		return nil, fmt.Errorf("train: task %s: the loss has shape %v, want a scalar", task.Name(), loss.Shape())
	}
	s := &stepper{loss: loss, partVals: map[string]float64{}}
	nodes := make(G.Nodes, 0, len(learn))
	var ops []*optim.Param
	for _, lp := range learn {
		if lp.Node == nil || lp.Node.Value() == nil {
			return nil, fmt.Errorf("train: task %s: parameter %q has no node or value", task.Name(), lp.Name)
		}
		if lp.Node.Dtype() != tensor.Float32 {
			return nil, fmt.Errorf("train: task %s: parameter %q is %v, want float32 (the optimizer trains float32)", task.Name(), lp.Name, lp.Node.Dtype())
		}
		v := lp.Node.Value().Data().([]float32)
		p := &optim.Param{Name: lp.Name, Shape: append([]int{}, lp.Shape...), Value: v, Grad: make([]float32, len(v))}
		s.params = append(s.params, &paramRef{node: lp.Node, p: p})
		ops = append(ops, p)
		nodes = append(nodes, lp.Node)
	}
	parts := task.Parts()
	for name, n := range parts {
		if n == nil {
			return nil, fmt.Errorf("train: task %s: loss part %q has no node", task.Name(), name)
		}
		s.partNames = append(s.partNames, name)
	}
	sort.Strings(s.partNames)
	for _, name := range s.partNames {
		s.parts = append(s.parts, parts[name])
	}
	if _, err := G.Grad(loss, nodes...); err != nil {
		return nil, fmt.Errorf("train: task %s: differentiating the loss: %w", task.Name(), err)
	}
	var rules []optim.Rule
	if hp, ok := task.(HeadPrefixer); ok && len(hp.HeadPrefixes()) > 0 {
		rules = optim.HeadEncoderRules(hp.HeadPrefixes(), cfg.EncoderLRMult)
	} else if cfg.EncoderLRMult != 1 {
		return nil, usageErrorf("--encoder-lr-mult %v: task %s has no head/encoder split; leave it at 1", cfg.EncoderLRMult, task.Name())
	}
	var err error
	if s.opt, err = optim.New(ops, cfg.Optim, rules); err != nil {
		return nil, &UsageError{Msg: err.Error()}
	}
	// No BindDualValues: with it, Gorgonia v0.9.18 adds each run's gradient into the
	// parameter's dual value, accumulating across steps unless someone zeroes it (its own
	// solvers do). Without it, Node.Grad reads the gradient node's value of this run.
	if cfg.Device == "emulated" || cfg.Device == "cuda" {
		if err := checkDeviceTask(task, cfg.Device); err != nil {
			return nil, err
		}
		if s.dev, s.vm, err = openDevice(task.Graph(), cfg.Device, cfg.TF32, s.params); err != nil {
			return nil, err
		}
		// A task whose state beside the graph lives on the device (ResidentTask: a pretext
		// method's momentum network and queues) reads the online weights there; a DeviceTask
		// that is not one reads them on the host between passes and gets them back after
		// every step (the step itself runs on the device).
		_, s.dev.syncEachStep = task.(DeviceTask)
		if rt, ok := task.(ResidentTask); ok {
			resident, err := rt.UseDevice(s.dev)
			if err != nil {
				s.vm.Close()
				return nil, fmt.Errorf("train: --device %s: %w", cfg.Device, err)
			}
			s.dev.syncEachStep = !resident
		}
		return s, nil
	}
	s.vm = G.NewTapeMachine(task.Graph())
	if !cfg.NoMemoryPlan {
		if s.plan, err = PlanMemory(task, cfg.MemoryPlan); err != nil {
			s.vm.Close()
			return nil, err
		}
	}
	return s, nil
}

func (s *stepper) close() {
	if s.vm != nil {
		s.vm.Close()
	}
	if s.plan != nil {
		s.plan.Release()
	}
}

// forward runs the forward and backward pass and returns the loss and its parts.
func (s *stepper) forward() (float64, map[string]float64, error) {
	s.vm.Reset()
	if s.dev != nil {
		if err := s.dev.toDevice(s.opt); err != nil {
			return 0, nil, fmt.Errorf("train: --device %s: %w", s.dev.dev.Name(), err)
		}
	}
	if err := s.vm.RunAll(); err != nil {
		return 0, nil, fmt.Errorf("train: forward/backward pass: %w", err)
	}
	loss, err := scalar(s.loss.Value())
	if err != nil {
		return 0, nil, fmt.Errorf("train: loss: %w", err)
	}
	clear(s.partVals)
	for i, n := range s.parts {
		v, err := scalar(n.Value())
		if err != nil {
			return 0, nil, fmt.Errorf("train: loss part %q: %w", s.partNames[i], err)
		}
		s.partVals[s.partNames[i]] = v
	}
	return loss, s.partVals, nil
}

// bindGradients points the optimizer at this run's gradients and values (Gorgonia may hand
// out a new gradient tensor on any run, so they are read again every step; nothing is
// copied). It returns the name of the first parameter whose gradient holds a NaN or ±Inf.
//
// On a device the gradients stay there: their global norm is taken there (one float out),
// which is also the finite check.
func (s *stepper) bindGradients() (string, error) {
	if s.dev != nil {
		bad, err := s.dev.sgd.gradNorm(s.dev)
		if err != nil {
			return "", fmt.Errorf("train: --device %s: gradient norm: %w", s.dev.dev.Name(), err)
		}
		return bad, nil
	}
	bad := ""
	for _, r := range s.params {
		g, err := r.node.Grad()
		if err != nil {
			return "", fmt.Errorf("train: gradient of %q: %w", r.p.Name, err)
		}
		gd, ok := g.Data().([]float32)
		if !ok || len(gd) != len(r.p.Value) {
			return "", fmt.Errorf("train: gradient of %q has %d float32 values, want %d", r.p.Name, len(gd), len(r.p.Value))
		}
		r.p.Grad = gd
		r.p.Value = r.node.Value().Data().([]float32)
		if bad == "" && !allFinite(gd) {
			bad = r.p.Name
		}
	}
	return bad, nil
}

// step is the SGD update at learning rate lr: on the host (optim.SGD.Step) or, with a
// device, on the device.
func (s *stepper) step(lr float64) error {
	if s.dev != nil {
		if err := s.dev.sgd.step(s.dev, s.opt, lr); err != nil {
			return err
		}
		if s.dev.syncEachStep {
			return s.syncHost()
		}
		return nil
	}
	return s.opt.Step(lr)
}

// syncHost brings the host's parameters, BatchNorm statistics and momentum buffers up to
// date from the device before something reads them (a checkpoint, validation, the outputs);
// without a device it does nothing.
func (s *stepper) syncHost() error {
	if s.dev == nil {
		return nil
	}
	if err := s.dev.syncHost(s.opt); err != nil {
		return fmt.Errorf("train: --device %s: copying the trained state back: %w", s.dev.dev.Name(), err)
	}
	return nil
}

// allFinite reports whether v holds no NaN or ±Inf: x−x is 0 for every finite x and NaN
// otherwise.
func allFinite(v []float32) bool {
	var acc float32
	for _, x := range v {
		acc += x - x
	}
	return acc == 0
}

// scalar reads a one-element value as float64.
func scalar(v G.Value) (float64, error) {
	switch x := v.(type) {
	case nil:
		return 0, fmt.Errorf("no value (not computed)")
	case *G.F32:
		return float64(*x), nil
	case *G.F64:
		return float64(*x), nil
	case tensor.Tensor:
		switch d := x.Data().(type) {
		case float32:
			return float64(d), nil
		case float64:
			return d, nil
		case []float32:
			if len(d) == 1 {
				return float64(d[0]), nil
			}
		case []float64:
			if len(d) == 1 {
				return d[0], nil
			}
		}
		return 0, fmt.Errorf("value of shape %v, want a scalar", x.Shape())
	}
	return 0, fmt.Errorf("value of type %T, want a float scalar", v)
}
