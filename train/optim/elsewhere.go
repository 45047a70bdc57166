package optim

import (
	"fmt"
	"math"
)

// Update is one parameter's settings for one step whose element-wise work runs where the
// values live (train's device step, with ops/cuda/kernels/sgd.cu's sgd_update, whose
// arguments these are): the same numbers Step gives updateArgs.
type Update struct {
	LR, WD, Mu      float32
	First, Nesterov bool // First: the momentum buffer starts this step (v = d)
}

// StepElsewhere is Step for values that live elsewhere (on a device): the optimizer decides
// the step — the learning rate per group, the weight decay per parameter, whether each
// momentum buffer starts now, the clipping factor from norm (the global gradient L2 norm the
// caller computed there; ignored when clipping is off) — and apply does parameter i's update
// there, gradients first scaled by coef when coef < 1, exactly as Step would. The host
// momentum buffers are allocated when they start but not written: the caller copies the
// device's into Buffer(i) before SaveState. On error (a bad lr, a non-finite norm) nothing
// has been changed.
func (o *SGD) StepElsewhere(lr, norm float64, apply func(i int, coef float32, u Update) error) error {
	if !validFloat(lr) {
		return fmt.Errorf("optim: step %d: learning rate %v, want a finite number ≥ 0", o.step, lr)
	}
	coef := float32(1)
	if o.cfg.MaxGradNorm > 0 {
		if math.IsNaN(norm) || math.IsInf(norm, 0) {
			return fmt.Errorf("optim: gradient norm is %v; the gradients hold NaN or Inf values (at step %d)", norm, o.step)
		}
		o.gradNorm, coef = norm, float32(o.cfg.MaxGradNorm/(norm+1e-6))
	}
	mu := float32(o.cfg.Momentum)
	for i, p := range o.params {
		u := Update{LR: float32(lr * o.lrMult[i]), WD: o.decay[i], Mu: mu, Nesterov: o.cfg.Nesterov}
		if mu != 0 && o.buf[i] == nil {
			o.buf[i] = make([]float32, len(p.Value))
			u.First = true
		}
		if err := apply(i, coef, u); err != nil {
			return err
		}
	}
	o.step++
	return nil
}

// Buffer is parameter i's host momentum buffer (nil until momentum has started): with
// StepElsewhere the device's copy is authoritative, and the caller moves it in and out.
func (o *SGD) Buffer(i int) []float32 { return o.buf[i] }
