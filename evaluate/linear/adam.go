package linear

import "math"

// adam is Adam (Kingma & Ba) with β1 0.9, β2 0.999, ε 1e-8 and bias correction, in float64
// state so that long runs stay exact enough to converge.
type adam struct {
	m, v []float64
	t    int
}

func newAdam(n int) *adam { return &adam{m: make([]float64, n), v: make([]float64, n)} }

func (a *adam) step(p, g []float32, lr float64) {
	const b1, b2, eps = 0.9, 0.999, 1e-8
	a.t++
	c1 := 1 - math.Pow(b1, float64(a.t))
	c2 := 1 - math.Pow(b2, float64(a.t))
	for i, gi := range g {
		gf := float64(gi)
		a.m[i] = b1*a.m[i] + (1-b1)*gf
		a.v[i] = b2*a.v[i] + (1-b2)*gf*gf
		p[i] -= float32(lr * (a.m[i] / c1) / (math.Sqrt(a.v[i]/c2) + eps))
	}
}
