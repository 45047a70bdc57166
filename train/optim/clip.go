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
	norm, coef, err := clipCoef(params, maxNorm)
	if err != nil || coef >= 1 {
		return norm, err // coef ≥ 1: torch multiplies by 1.0 here, which changes nothing
	}
	// The scaling is element-wise, so splitting it over the CPUs changes no bit.
	var plan chunkPlan
	plan.cut(params)
	forEachChunk(plan.chunks(), func(k int) {
		for _, s := range plan.chunk(k) {
			scaleGrads(params[s.i].Grad[s.lo:s.hi], coef)
		}
	})
	return norm, nil
}

// clipCoef returns the global gradient norm and the factor clipping multiplies every gradient
// by; a factor ≥ 1 means no scaling at all. It changes nothing.
func clipCoef(params []*Param, maxNorm float64) (norm float64, coef float32, err error) {
	if !validFloat(maxNorm) || maxNorm == 0 {
		return 0, 1, fmt.Errorf("optim: max gradient norm %v, want a finite number > 0", maxNorm)
	}
	// Sum of squares in float64: exact enough that the result does not depend on the order
	// in any way that matters. It is still one serial sum in list order, not split over the
	// CPUs like the update: partial sums would round differently in the last bits, so the
	// norm (LastGradNorm) and now and then the coefficient would differ from what earlier
	// versions computed. A chain of dependent adds, it is the slowest part of a clipped step
	// (about 11 ms for 13M parameters on a 2-core EPYC, twice the parallel update).
	var sum float64
	for _, p := range params {
		for _, g := range p.Grad {
			sum += float64(g) * float64(g)
		}
	}
	norm = math.Sqrt(sum)
	if math.IsNaN(norm) || math.IsInf(norm, 0) {
		return norm, 1, fmt.Errorf("optim: gradient norm is %v; the gradients hold NaN or Inf values", norm)
	}
	return norm, float32(maxNorm / (norm + 1e-6)), nil
}
