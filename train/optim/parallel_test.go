package optim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// refSGD is the optimizer as it was before the update was split over the CPUs: one tensor
// after another, one element after another, on one goroutine. Its clip and update are copies
// of that version's ClipGradNorm and SGD.update; the parallel Step must match it bit for bit.
type refSGD struct {
	cfg    Config
	decay  []float32
	lrMult []float64
	buf    [][]float32
}

func (o *refSGD) Step(params []*Param, lr float64) (gradNorm float64) {
	gradNorm = math.NaN()
	if o.cfg.MaxGradNorm > 0 {
		gradNorm = refClipGradNorm(params, o.cfg.MaxGradNorm)
	}
	mu := float32(o.cfg.Momentum)
	for i, p := range params {
		o.update(i, p, float32(lr*o.lrMult[i]), mu)
	}
	return gradNorm
}

func refClipGradNorm(params []*Param, maxNorm float64) float64 {
	var sum float64
	for _, p := range params {
		for _, g := range p.Grad {
			sum += float64(g) * float64(g)
		}
	}
	norm := math.Sqrt(sum)
	coef := float32(maxNorm / (norm + 1e-6))
	if coef >= 1 {
		return norm
	}
	for _, p := range params {
		for j := range p.Grad {
			p.Grad[j] *= coef
		}
	}
	return norm
}

func (o *refSGD) update(i int, p *Param, lr, mu float32) {
	wd := o.decay[i]
	if mu == 0 {
		for j, g := range p.Grad {
			d := g
			if wd != 0 {
				d = g + float32(wd*p.Value[j])
			}
			p.Value[j] -= float32(lr * d)
		}
		return
	}
	first := o.buf[i] == nil
	if first {
		o.buf[i] = make([]float32, len(p.Value))
	}
	v := o.buf[i]
	nesterov := o.cfg.Nesterov
	for j, g := range p.Grad {
		d := g
		if wd != 0 {
			d = g + float32(wd*p.Value[j])
		}
		if first {
			v[j] = d
		} else {
			v[j] = float32(v[j]*mu) + d
		}
		if nesterov {
			d += float32(mu * v[j])
		} else {
			d = v[j]
		}
		p.Value[j] -= float32(lr * d)
	}
}

// bigModel is a model of several chunks: tensors that cross chunk boundaries and small ones
// between them, in three groups (encoder at LR×0.01, head, and aux without decay), decayed
// and not. Values (and gradients, see setGrads) are random, with some exact zeros of both
// signs: where wd = 0, adding wd·p would turn a −0 into +0, which the bit comparisons see.
// aux.fc.weight (not decayed) holds an infinite value as well.
func bigModel(seed uint64) []*Param {
	shapes := []struct {
		name  string
		shape []int
	}{
		{"encoder.conv1.weight", []int{64, 3, 7, 7}},
		{"encoder.bn1.weight", []int{64}},
		{"encoder.bn1.bias", []int{64}},
		{"encoder.layer1.weight", []int{300, 437}},
		{"encoder.scale", nil},
		{"aux.fc.weight", []int{1000, 70}},
		{"head.conv.weight", []int{128, 1031}},
		{"head.conv.bias", []int{128}},
		{"head.cls.weight", []int{7, 11, 13, 17}},
	}
	r := rand.New(rand.NewPCG(seed, 7))
	var params []*Param
	for _, s := range shapes {
		n := 1
		for _, d := range s.shape {
			n *= d
		}
		p := &Param{Name: s.name, Shape: s.shape, Value: make([]float32, n), Grad: make([]float32, n)}
		for j := range p.Value {
			p.Value[j] = float32(r.NormFloat64() * 0.1)
			switch r.IntN(100) {
			case 0:
				p.Value[j] = 0
			case 1:
				p.Value[j] = float32(math.Copysign(0, -1))
			}
		}
		params = append(params, p)
	}
	// An infinite weight where there is no decay stays infinite; adding 0·p would make NaNs.
	for _, p := range params {
		if p.Name == "aux.fc.weight" {
			p.Value[100] = float32(math.Inf(1))
		}
	}
	return params
}

// setGrads gives the model random gradients of about scale·sqrt(n) norm in all.
func setGrads(params []*Param, r *rand.Rand, scale float64) {
	for _, p := range params {
		for j := range p.Grad {
			g := float32(r.NormFloat64() * scale)
			switch r.IntN(100) {
			case 0:
				g = 0
			case 1:
				g = float32(math.Copysign(0, -1))
			}
			p.Grad[j] = g
		}
	}
}

func cloneParams(params []*Param) []*Param {
	var out []*Param
	for _, p := range params {
		q := *p
		q.Value = append([]float32(nil), p.Value...)
		q.Grad = append([]float32(nil), p.Grad...)
		out = append(out, &q)
	}
	return out
}

func sameBits(a, b []float32) int {
	if len(a) != len(b) {
		return 0
	}
	for j := range a {
		if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
			return j
		}
	}
	return -1
}

// Step must give the same bits for any number of CPUs, and the same as the serial update it
// replaced: with momentum, Nesterov and none, weight decay on some groups, clipping that
// scales on some steps and not on others, over several steps (the first allocates the
// momentum buffers).
func TestStepSameBitsAnyGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	rules := []Rule{
		{Name: "head", Prefixes: []string{"head."}, LRMult: 1},
		{Name: "aux", Prefixes: []string{"aux."}, LRMult: 2, NoDecay: true},
		{Name: "encoder", LRMult: 0.01},
	}
	// The model has 360K elements: gradients of 0.01 each have a norm of about 6, so clipping
	// to 5 scales every step but the second (norm about 3).
	gradScale := []float64{0.02, 0.005, 0.01, 0.03, 0.02}
	lrs := []float64{0.1, 0.05, 0.1, 0.2, 0}
	for _, cfg := range []Config{
		{Momentum: 0.9, WeightDecay: 1e-4, MaxGradNorm: 5},
		{Momentum: 0.9, WeightDecay: 5e-4, Nesterov: true, MaxGradNorm: 5},
		{WeightDecay: 1e-4, MaxGradNorm: 5},
		{Momentum: 0.8, WeightDecay: 1e-4, Nesterov: true},
		{Momentum: 0.9, WeightDecay: 1e-2, DecayAll: true},
	} {
		t.Run(fmt.Sprintf("%+v", cfg), func(t *testing.T) {
			initial := bigModel(1)
			total := 0
			for _, p := range initial {
				total += len(p.Value)
			}
			if total <= 4*chunkElems {
				t.Fatalf("model has %d elements, want more than 4 chunks", total)
			}

			// The reference, serially.
			ref := cloneParams(initial)
			o, err := New(ref, cfg, rules)
			if err != nil {
				t.Fatal(err)
			}
			rs := &refSGD{cfg: cfg, decay: o.decay, lrMult: o.lrMult, buf: make([][]float32, len(ref))}
			r := rand.New(rand.NewPCG(2, 3))
			// Per step: the norm, and every parameter's gradient (after clipping), value and
			// momentum buffer. A −0 that should have been +0 shows only in the step it
			// happens in: the next step's additions turn both into the same number.
			type snapshot struct{ grad, value, buf []float32 }
			var refNorms []float64
			var refSteps [][]snapshot
			for s := range lrs {
				setGrads(ref, r, gradScale[s])
				refNorms = append(refNorms, rs.Step(ref, lrs[s]))
				var snap []snapshot
				for i, p := range ref {
					snap = append(snap, snapshot{
						append([]float32(nil), p.Grad...),
						append([]float32(nil), p.Value...),
						append([]float32(nil), rs.buf[i]...),
					})
				}
				refSteps = append(refSteps, snap)
			}
			if cfg.MaxGradNorm > 0 && !(refNorms[0] > cfg.MaxGradNorm && refNorms[1] < cfg.MaxGradNorm) {
				t.Fatalf("gradient norms %v: the test wants clipping to scale step 0 and not step 1", refNorms)
			}

			for _, procs := range []int{1, 2, 3, 8} {
				runtime.GOMAXPROCS(procs)
				params := cloneParams(initial)
				opt, err := New(params, cfg, rules)
				if err != nil {
					t.Fatal(err)
				}
				r := rand.New(rand.NewPCG(2, 3))
				for s := range lrs {
					setGrads(params, r, gradScale[s])
					if err := opt.Step(lrs[s]); err != nil {
						t.Fatal(err)
					}
					if got, want := opt.LastGradNorm(), refNorms[s]; math.Float64bits(got) != math.Float64bits(want) {
						t.Errorf("GOMAXPROCS %d step %d: gradient norm %v, serial %v", procs, s, got, want)
					}
					for i, p := range params {
						want := refSteps[s][i]
						if j := sameBits(p.Grad, want.grad); j >= 0 {
							t.Fatalf("GOMAXPROCS %d step %d: %s gradient differs from the serial one at %d", procs, s, p.Name, j)
						}
						if j := sameBits(p.Value, want.value); j >= 0 {
							t.Fatalf("GOMAXPROCS %d step %d: %s differs from the serial update at %d: %v, serial %v", procs, s, p.Name, j, p.Value[j], want.value[j])
						}
						if j := sameBits(opt.buf[i], want.buf); j >= 0 {
							t.Fatalf("GOMAXPROCS %d step %d: momentum buffer of %s differs from the serial one at %d", procs, s, p.Name, j)
						}
					}
				}
			}
		})
	}
}

// ClipGradNorm on its own scales as the serial version did, for any number of CPUs.
func TestClipGradNormSameBitsAnyGOMAXPROCS(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	initial := bigModel(4)
	setGrads(initial, rand.New(rand.NewPCG(5, 6)), 0.01)
	ref := cloneParams(initial)
	want := refClipGradNorm(ref, 1)
	for _, procs := range []int{1, 2, 3} {
		runtime.GOMAXPROCS(procs)
		params := cloneParams(initial)
		got, err := ClipGradNorm(params, 1)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("GOMAXPROCS %d: norm %v err %v, serial %v", procs, got, err, want)
		}
		for i, p := range params {
			if j := sameBits(p.Grad, ref[i].Grad); j >= 0 {
				t.Errorf("GOMAXPROCS %d: %s clipped gradient differs from the serial one at %d", procs, p.Name, j)
			}
		}
	}
}

// The cut covers every element once, in order, in chunks of chunkElems but the last, and
// depends on the sizes only.
func TestChunkPlan(t *testing.T) {
	params := bigModel(1)
	var c chunkPlan
	c.cut(params)
	next := make([]int, len(params)) // next element expected of each parameter
	last := -1
	total := 0
	for k := 0; k < c.chunks(); k++ {
		n := 0
		for _, s := range c.chunk(k) {
			if s.i < last || s.lo != next[s.i] || s.hi <= s.lo {
				t.Fatalf("chunk %d: span %+v out of order", k, s)
			}
			last, next[s.i] = s.i, s.hi
			n += s.hi - s.lo
		}
		if k < c.chunks()-1 && n != chunkElems || n == 0 || n > chunkElems {
			t.Errorf("chunk %d of %d has %d elements", k, c.chunks(), n)
		}
		total += n
	}
	for i, p := range params {
		if next[i] != len(p.Value) {
			t.Errorf("%s: cut covers %d of %d elements", p.Name, next[i], len(p.Value))
		}
	}
	if want := (total + chunkElems - 1) / chunkElems; c.chunks() != want {
		t.Errorf("%d chunks for %d elements, want %d", c.chunks(), total, want)
	}
}
