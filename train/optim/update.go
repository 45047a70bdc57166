package optim

// The update is torch 1.13's _single_tensor_sgd, element by element, with the float32
// roundings in the same places; the explicit float32 conversions of products also stop the
// compiler from fusing a multiply-add into one rounding. For every element, with d the
// gradient g plus weight decay:
//
//	d = g + float32(wd·p)               when wd ≠ 0; d = g otherwise
//	v = d                               first step with momentum
//	v = float32(v·μ) + d                later steps
//	d = d + float32(μ·v)  (Nesterov)  or  d = v
//	p = p − float32(lr·d)
//
// (d = g + 0·p would not be the same: it turns g = −0 into +0, and an infinite p into NaN.)
// Each case (momentum or not, first step or not, Nesterov or not, decay or not) has a loop of
// its own, so that no inner loop branches; all of them compute exactly what the formulas
// above say for their case. The slices of one call have the same length (the loops reslice to
// the gradient's length so that the compiler drops the bounds checks).

// updateArgs is one parameter's settings for one step.
type updateArgs struct {
	lr, wd, mu      float32
	first, nesterov bool // first: the momentum buffer starts this step
}

// update applies one step to values p from gradients g with momentum buffer v (unused, and
// may be nil, when mu is 0).
func (a *updateArgs) update(p, g, v []float32) {
	lr, wd, mu := a.lr, a.wd, a.mu
	switch {
	case mu == 0 && wd == 0:
		sgdPlain(p, g, lr)
	case mu == 0:
		sgdDecay(p, g, lr, wd)
	case a.nesterov && a.first && wd == 0:
		nesterovFirst(p, g, v, lr, mu)
	case a.nesterov && a.first:
		nesterovFirstDecay(p, g, v, lr, wd, mu)
	case a.nesterov && wd == 0:
		nesterov(p, g, v, lr, mu)
	case a.nesterov:
		nesterovDecay(p, g, v, lr, wd, mu)
	case a.first && wd == 0:
		momentumFirst(p, g, v, lr)
	case a.first:
		momentumFirstDecay(p, g, v, lr, wd)
	case wd == 0:
		momentum(p, g, v, lr, mu)
	default:
		momentumDecay(p, g, v, lr, wd, mu)
	}
}

func sgdPlain(p, g []float32, lr float32) {
	p = p[:len(g)]
	for j, d := range g {
		p[j] -= float32(lr * d)
	}
}

func sgdDecay(p, g []float32, lr, wd float32) {
	p = p[:len(g)]
	for j, gj := range g {
		d := gj + float32(wd*p[j])
		p[j] -= float32(lr * d)
	}
}

func momentumFirst(p, g, v []float32, lr float32) {
	p, v = p[:len(g)], v[:len(g)]
	for j, d := range g {
		v[j] = d
		p[j] -= float32(lr * d)
	}
}

func momentumFirstDecay(p, g, v []float32, lr, wd float32) {
	p, v = p[:len(g)], v[:len(g)]
	for j, gj := range g {
		d := gj + float32(wd*p[j])
		v[j] = d
		p[j] -= float32(lr * d)
	}
}

func momentum(p, g, v []float32, lr, mu float32) {
	p, v = p[:len(g)], v[:len(g)]
	for j, d := range g {
		vj := float32(v[j]*mu) + d
		v[j] = vj
		p[j] -= float32(lr * vj)
	}
}

func momentumDecay(p, g, v []float32, lr, wd, mu float32) {
	p, v = p[:len(g)], v[:len(g)]
	for j, gj := range g {
		d := gj + float32(wd*p[j])
		vj := float32(v[j]*mu) + d
		v[j] = vj
		p[j] -= float32(lr * vj)
	}
}

func nesterovFirst(p, g, v []float32, lr, mu float32) {
	p, v = p[:len(g)], v[:len(g)]
	for j, d := range g {
		v[j] = d
		d += float32(mu * d)
		p[j] -= float32(lr * d)
	}
}

func nesterovFirstDecay(p, g, v []float32, lr, wd, mu float32) {
	p, v = p[:len(g)], v[:len(g)]
	for j, gj := range g {
		d := gj + float32(wd*p[j])
		v[j] = d
		d += float32(mu * d)
		p[j] -= float32(lr * d)
	}
}

func nesterov(p, g, v []float32, lr, mu float32) {
	p, v = p[:len(g)], v[:len(g)]
	for j, d := range g {
		vj := float32(v[j]*mu) + d
		v[j] = vj
		d += float32(mu * vj)
		p[j] -= float32(lr * d)
	}
}

func nesterovDecay(p, g, v []float32, lr, wd, mu float32) {
	p, v = p[:len(g)], v[:len(g)]
	for j, gj := range g {
		d := gj + float32(wd*p[j])
		vj := float32(v[j]*mu) + d
		v[j] = vj
		d += float32(mu * vj)
		p[j] -= float32(lr * d)
	}
}

// scaleGrads multiplies gradients by the clipping coefficient, in float32 as torch does.
func scaleGrads(g []float32, coef float32) {
	for j := range g {
		g[j] *= coef
	}
}
