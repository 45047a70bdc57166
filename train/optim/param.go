package optim

import (
	"fmt"
	"math"
	"strings"
)

// Param is one trainable tensor as the optimizer sees it: flat float32 slices that alias the
// training loop's storage. The optimizer keeps the *Param, so the loop may re-point Value or
// Grad between steps (lengths are checked at every step).
type Param struct {
	Name  string
	Shape []int     // decides weight decay: tensors with at most one dimension are not decayed
	Value []float32 // updated in place by Step
	Grad  []float32 // read by Step (scaled in place when clipping)
}

// size is the element count the shape promises.
func (p *Param) size() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// check reports a parameter whose slices disagree with its shape.
func (p *Param) check() error {
	for _, d := range p.Shape {
		if d <= 0 {
			return fmt.Errorf("optim: parameter %q: shape %v has a dimension ≤ 0", p.Name, p.Shape)
		}
	}
	n := p.size()
	if len(p.Value) != n {
		return fmt.Errorf("optim: parameter %q: value has %d elements, shape %v wants %d", p.Name, len(p.Value), p.Shape, n)
	}
	if len(p.Grad) != n {
		return fmt.Errorf("optim: parameter %q: gradient has %d elements, shape %v wants %d", p.Name, len(p.Grad), p.Shape, n)
	}
	return nil
}

// decayable is the default weight-decay rule: matrices and convolution kernels are decayed;
// 1-D tensors (BatchNorm scales and shifts, biases), scalars and anything named *.bias are not.
func decayable(p *Param) bool {
	return len(p.Shape) >= 2 && !strings.HasSuffix(p.Name, ".bias")
}

// validFloat reports whether v is a finite number ≥ 0.
func validFloat(v float64) bool {
	return v >= 0 && !math.IsInf(v, 0) && !math.IsNaN(v)
}
