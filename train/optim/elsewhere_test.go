package optim

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestStepElsewhereIsStep: StepElsewhere with an apply that does the update on the host
// (the clip's float32 product, then updateArgs.update: what sgd_update does on a device)
// takes Step's steps bit for bit — LR per group, weight decay only where Step decays,
// momentum starting on the first step, Nesterov, clipping from the norm given — and keeps
// the step count, the last norm and the started buffers as Step does.
func TestStepElsewhereIsStep(t *testing.T) {
	mk := func() []*Param {
		r := rand.New(rand.NewPCG(5, 6))
		var ps []*Param
		for _, s := range []struct {
			name  string
			shape []int
		}{{"enc.conv.weight", []int{4, 3}}, {"enc.bn.bias", []int{4}}, {"head.weight", []int{2, 5}}} {
			n := s.shape[0]
			if len(s.shape) > 1 {
				n *= s.shape[1]
			}
			p := &Param{Name: s.name, Shape: s.shape, Value: make([]float32, n), Grad: make([]float32, n)}
			for i := range p.Value {
				p.Value[i] = float32(r.Float64()*2 - 1)
			}
			ps = append(ps, p)
		}
		return ps
	}
	cfg := Config{Momentum: 0.9, WeightDecay: 1e-2, Nesterov: true, MaxGradNorm: 0.5}
	rules := HeadEncoderRules([]string{"head."}, 0.1)
	a, b := mk(), mk()
	oa, err := New(a, cfg, rules)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := New(b, cfg, rules)
	if err != nil {
		t.Fatal(err)
	}
	vel := make([][]float32, len(b))
	r := rand.New(rand.NewPCG(7, 8))
	for step := 0; step < 3; step++ {
		for i := range a {
			for j := range a[i].Grad {
				g := float32(r.Float64()*2 - 1)
				a[i].Grad[j], b[i].Grad[j] = g, g
			}
		}
		var sum float64
		for _, p := range b {
			for _, g := range p.Grad {
				sum += float64(g) * float64(g)
			}
		}
		if err := oa.Step(0.1); err != nil {
			t.Fatal(err)
		}
		err := ob.StepElsewhere(0.1, math.Sqrt(sum), func(i int, coef float32, u Update) error {
			if coef < 1 {
				scaleGrads(b[i].Grad, coef)
			}
			if u.First {
				vel[i] = make([]float32, len(b[i].Value))
			}
			args := updateArgs{lr: u.LR, wd: u.WD, mu: u.Mu, first: u.First, nesterov: u.Nesterov}
			args.update(b[i].Value, b[i].Grad, vel[i])
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range a {
			for j := range a[i].Value {
				if math.Float32bits(a[i].Value[j]) != math.Float32bits(b[i].Value[j]) {
					t.Fatalf("step %d: %s[%d] = %v, Step gives %v", step, a[i].Name, j, b[i].Value[j], a[i].Value[j])
				}
			}
			if ob.Buffer(i) == nil {
				t.Fatalf("step %d: %s has no host momentum buffer", step, b[i].Name)
			}
		}
	}
	if oa.StepCount() != ob.StepCount() || oa.LastGradNorm() != ob.LastGradNorm() {
		t.Fatalf("step count %d, norm %v; Step: %d, %v", ob.StepCount(), ob.LastGradNorm(), oa.StepCount(), oa.LastGradNorm())
	}
	if err := ob.StepElsewhere(0.1, math.NaN(), func(int, float32, Update) error { t.Fatal("applied with a NaN norm"); return nil }); err == nil {
		t.Fatal("a NaN gradient norm with clipping on was accepted")
	}
	if ob.StepCount() != 3 {
		t.Fatalf("a refused step counted: %d", ob.StepCount())
	}
}
