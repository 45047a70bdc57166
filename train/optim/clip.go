package optim

import (
	"fmt"
	"math"
)

// ClipGradNorm scales all gradients together so that their global L2 norm (the norm of the
// concatenation) is at most maxNorm, as torch.nn.utils.clip_grad_norm_ does: every gradient is
// multiplied by min(1, maxNorm/(norm+1e-6)). It returns the norm before clipping. A NaN or
// infinite norm is an error and leaves the gradients untouched: scaling by it would spread
// the NaN into every parameter.
func ClipGradNorm(params []*Param, maxNorm float64) (float64, error) {
	if !validFloat(maxNorm) || maxNorm == 0 {
		return 0, fmt.Errorf("optim: max gradient norm %v, want a finite number > 0", maxNorm)
	}
	// Sum of squares in float64: exact enough that the result does not depend on the order.
	var sum float64
	for _, p := range params {
		for _, g := range p.Grad {
			sum += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(sum)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, fmt.Errorf("optim: gradient norm is %v; the gradients hold NaN or Inf values", norm)
	}
	coef := float32(maxNorm / (norm + 1e-6))
	if coef >= 1 {
		return norm, nil // torch multiplies by 1.0 here, which changes nothing
	}
	for _, p := range params {
		for j := range p.Grad {
			p.Grad[j] *= coef
		}
	}
	return norm, nil
}
