package optim

import (
	"fmt"
	"math"
)

// Config holds SGD's hyperparameters. The zero value is plain SGD without momentum or decay.
type Config struct {
	Momentum    float64 // μ, e.g. 0.9; 0 disables the momentum buffer
	WeightDecay float64 // L2 coefficient added to the gradient, e.g. 5e-4
	Nesterov    bool    // Nesterov momentum (needs Momentum > 0)
	MaxGradNorm float64 // > 0: clip the global gradient L2 norm to this before each step
	DecayAll    bool    // decay 1-D tensors and biases too (off: they are excluded)
}

func (c Config) check() error {
	if !validFloat(c.Momentum) || c.Momentum >= 1 {
		return fmt.Errorf("optim: momentum %v, want 0 ≤ momentum < 1", c.Momentum)
	}
	if !validFloat(c.WeightDecay) {
		return fmt.Errorf("optim: weight decay %v, want a finite number ≥ 0", c.WeightDecay)
	}
	if c.Nesterov && c.Momentum == 0 {
		return fmt.Errorf("optim: Nesterov needs a momentum > 0 (got 0)")
	}
	if !validFloat(c.MaxGradNorm) {
		return fmt.Errorf("optim: max gradient norm %v, want a finite number ≥ 0 (0: no clipping)", c.MaxGradNorm)
	}
	return nil
}

// SGD is stochastic gradient descent with momentum over parameter groups; see the package
// documentation for the exact update.
type SGD struct {
	cfg      Config
	params   []*Param
	lrMult   []float64   // per parameter, from its group
	decay    []float32   // per parameter: the weight decay it gets (0 when excluded)
	buf      [][]float32 // momentum buffers; nil until the first step
	groups   []Group
	step     int
	gradNorm float64

	// Reused by every Step, so that a step allocates nothing once the buffers exist.
	plan chunkPlan
	args []updateArgs // per parameter
}

// New builds an optimizer over params, grouped by rules (first match wins; unmatched
// parameters go to the group "default" with LR×1). Names must be unique and the slices must
// agree with the shapes.
func New(params []*Param, cfg Config, rules []Rule) (*SGD, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if err := checkRules(rules); err != nil {
		return nil, err
	}
	if len(params) == 0 {
		return nil, fmt.Errorf("optim: no parameters to optimize")
	}
	o := &SGD{cfg: cfg, params: params, gradNorm: math.NaN()}
	seen := make(map[string]bool, len(params))
	groupIndex := map[string]int{}
	for _, p := range params {
		if p == nil {
			return nil, fmt.Errorf("optim: nil parameter in the list")
		}
		if p.Name == "" {
			return nil, fmt.Errorf("optim: a parameter of shape %v has no name", p.Shape)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("optim: parameter %q listed twice", p.Name)
		}
		seen[p.Name] = true
		if err := p.check(); err != nil {
			return nil, err
		}
		rule := defaultRule
		for _, r := range rules {
			if r.matches(p.Name) {
				rule = r
				break
			}
		}
		gi, ok := groupIndex[rule.Name]
		if !ok {
			gi = len(o.groups)
			groupIndex[rule.Name] = gi
			o.groups = append(o.groups, Group{Name: rule.Name, LRMult: rule.LRMult})
		}
		g := &o.groups[gi]
		wd := float32(0)
		if !rule.NoDecay && (cfg.DecayAll || decayable(p)) {
			wd = float32(cfg.WeightDecay)
		}
		if wd != 0 {
			g.Decayed = append(g.Decayed, p.Name)
		} else {
			g.NotDecayed = append(g.NotDecayed, p.Name)
		}
		o.lrMult = append(o.lrMult, rule.LRMult)
		o.decay = append(o.decay, wd)
	}
	o.buf = make([][]float32, len(params))
	return o, nil
}

// Groups describes the parameter groups, in order of first appearance.
func (o *SGD) Groups() []Group { return o.groups }

// StepCount is the number of updates done so far (restored by LoadState).
func (o *SGD) StepCount() int { return o.step }

// LastGradNorm is the global gradient L2 norm before clipping in the last Step, or NaN when
// clipping is off or no step was taken.
func (o *SGD) LastGradNorm() float64 { return o.gradNorm }

// Step updates every parameter in place from its gradient, at learning rate lr × its group's
// multiplier. With clipping on, the gradients are scaled in place first. On error nothing
// has been changed.
//
// The element-wise work (scaling and update) is spread over runtime.GOMAXPROCS(0)
// goroutines in chunks fixed by the parameter sizes (see chunkElems); every element's
// update depends on that element alone, so the result is the same, bit for bit, for any
// number of CPUs.
func (o *SGD) Step(lr float64) error {
	if !validFloat(lr) {
		return fmt.Errorf("optim: step %d: learning rate %v, want a finite number ≥ 0", o.step, lr)
	}
	for _, p := range o.params {
		if err := p.check(); err != nil {
			return fmt.Errorf("%w (at step %d)", err, o.step)
		}
	}
	coef := float32(1)
	if o.cfg.MaxGradNorm > 0 {
		norm, c, err := clipCoef(o.params, o.cfg.MaxGradNorm)
		if err != nil {
			return fmt.Errorf("%w (at step %d)", err, o.step)
		}
		o.gradNorm, coef = norm, c
	}
	mu := float32(o.cfg.Momentum)
	o.args = o.args[:0]
	for i, p := range o.params {
		a := updateArgs{lr: float32(lr * o.lrMult[i]), wd: o.decay[i], mu: mu, nesterov: o.cfg.Nesterov}
		if mu != 0 && o.buf[i] == nil {
			// The buffer starts as the first gradient (v = d), as in torch; allocated here,
			// before the workers start, so that they only ever write to their own chunk.
			o.buf[i] = make([]float32, len(p.Value))
			a.first = true
		}
		o.args = append(o.args, a)
	}
	o.plan.cut(o.params)
	forEachChunk(o.plan.chunks(), func(k int) {
		for _, s := range o.plan.chunk(k) {
			p := o.params[s.i]
			g := p.Grad[s.lo:s.hi]
			if coef < 1 {
				// Scaling each chunk just before its update, instead of all gradients in a
				// pass of their own, reads the gradients from memory once, not twice.
				scaleGrads(g, coef)
			}
			var v []float32
			if mu != 0 {
				v = o.buf[s.i][s.lo:s.hi]
			}
			o.args[s.i].update(p.Value[s.lo:s.hi], g, v)
		}
	})
	o.step++
	return nil
}
