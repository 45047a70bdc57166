package optim

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func param(name string, shape []int, values ...float32) *Param {
	return &Param{Name: name, Shape: shape, Value: values, Grad: make([]float32, len(values))}
}

// Plain SGD, worked by hand: p=1, g=0.5, wd=0.1 (2-D, so decayed), lr=0.1:
// d = 0.5 + 0.1·1 = 0.6, p = 1 − 0.06 = 0.94. The bias (1-D) gets no decay: 2 − 0.1·0.5 = 1.95.
func TestPlainSGDByHand(t *testing.T) {
	w := param("fc.weight", []int{1, 1}, 1)
	b := param("fc.bias", []int{1}, 2)
	w.Grad[0], b.Grad[0] = 0.5, 0.5
	opt, err := New([]*Param{w, b}, Config{WeightDecay: 0.1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(0.1); err != nil {
		t.Fatal(err)
	}
	if w.Value[0] != 0.94 || b.Value[0] != 1.95 {
		t.Errorf("after one step weight %v bias %v, want 0.94 1.95", w.Value[0], b.Value[0])
	}
}

// Momentum and Nesterov by hand, lr=1, μ=0.5, no decay, gradients 1 then 2:
// momentum: v=1, p=−1; v=0.5+2=2.5, p=−3.5.
// Nesterov: v=1, d=1+0.5=1.5, p=−1.5; v=2.5, d=2+1.25=3.25, p=−4.75.
func TestMomentumByHand(t *testing.T) {
	for _, tc := range []struct {
		nesterov bool
		want     [2]float32
	}{{false, [2]float32{-1, -3.5}}, {true, [2]float32{-1.5, -4.75}}} {
		p := param("w", []int{1, 1}, 0)
		opt, err := New([]*Param{p}, Config{Momentum: 0.5, Nesterov: tc.nesterov}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range []float32{1, 2} {
			p.Grad[0] = g
			if err := opt.Step(1); err != nil {
				t.Fatal(err)
			}
			if p.Value[0] != tc.want[i] {
				t.Errorf("nesterov=%v step %d: p=%v, want %v", tc.nesterov, i, p.Value[0], tc.want[i])
			}
		}
	}
}

func TestGroups(t *testing.T) {
	params := []*Param{
		param("conv1.weight", []int{1, 1, 1, 1}, 0),
		param("bn1.weight", []int{1}, 0),
		param("head.conv.weight", []int{1, 1, 1, 1}, 0),
		param("head.conv.bias", []int{1}, 0),
		param("head.scale", nil, 0), // a scalar: not decayed
		param("aux.fc.weight", []int{1, 1}, 0),
	}
	rules := []Rule{
		{Name: "head", Prefixes: []string{"head."}, LRMult: 1},
		{Name: "aux", Prefixes: []string{"aux."}, LRMult: 2, NoDecay: true},
		{Name: "encoder", LRMult: 0.01},
	}
	opt, err := New(params, Config{WeightDecay: 1e-4}, rules)
	if err != nil {
		t.Fatal(err)
	}
	want := []Group{
		{Name: "encoder", LRMult: 0.01, Decayed: []string{"conv1.weight"}, NotDecayed: []string{"bn1.weight"}},
		{Name: "head", LRMult: 1, Decayed: []string{"head.conv.weight"}, NotDecayed: []string{"head.conv.bias", "head.scale"}},
		{Name: "aux", LRMult: 2, NotDecayed: []string{"aux.fc.weight"}},
	}
	if got := opt.Groups(); !reflect.DeepEqual(got, want) {
		t.Errorf("groups\n got %+v\nwant %+v", got, want)
	}
	if s := opt.Groups()[0].String(); s != "encoder: lr×0.01, 2 params (1 with weight decay)" {
		t.Errorf("summary %q", s)
	}

	// One step with every gradient 1 at lr 1 shows the multipliers directly.
	for _, p := range params {
		p.Grad[0] = 1
	}
	if err := opt.Step(1); err != nil {
		t.Fatal(err)
	}
	for i, want := range []float32{-0.01, -0.01, -1, -1, -1, -2} {
		if got := params[i].Value[0]; math.Abs(float64(got-want)) > 1e-7 {
			t.Errorf("%s after one step = %v, want %v", params[i].Name, got, want)
		}
	}

	// DecayAll puts every parameter of a decayed group under weight decay.
	opt, err = New(params, Config{WeightDecay: 1e-4, DecayAll: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g := opt.Groups(); len(g) != 1 || g[0].Name != "default" || len(g[0].Decayed) != len(params) {
		t.Errorf("DecayAll groups %+v", g)
	}
}

func TestNewErrors(t *testing.T) {
	ok := func() []*Param { return []*Param{param("w", []int{2}, 1, 2)} }
	for _, tc := range []struct {
		name   string
		params []*Param
		cfg    Config
		rules  []Rule
		want   string
	}{
		{"no params", nil, Config{}, nil, "no parameters"},
		{"momentum ≥ 1", ok(), Config{Momentum: 1}, nil, "momentum 1"},
		{"negative decay", ok(), Config{WeightDecay: -1}, nil, "weight decay -1"},
		{"NaN clip", ok(), Config{MaxGradNorm: math.NaN()}, nil, "max gradient norm NaN"},
		{"nesterov without momentum", ok(), Config{Nesterov: true}, nil, "Nesterov needs a momentum"},
		{"duplicate", []*Param{param("w", []int{1}, 1), param("w", []int{1}, 1)}, Config{}, nil, `"w" listed twice`},
		{"unnamed", []*Param{param("", []int{1}, 1)}, Config{}, nil, "has no name"},
		{"shape", []*Param{param("w", []int{3}, 1, 2)}, Config{}, nil, `"w": value has 2 elements, shape [3] wants 3`},
		{"grad size", []*Param{{Name: "g", Shape: []int{1}, Value: []float32{1}}}, Config{}, nil, `"g": gradient has 0 elements`},
		{"zero mult", ok(), Config{}, []Rule{{Name: "x", LRMult: 0}}, `rule "x": LR multiplier 0`},
		{"rule twice", ok(), Config{}, []Rule{{Name: "x", LRMult: 1}, {Name: "x", LRMult: 1}}, `"x" used twice`},
		{"empty prefix", ok(), Config{}, []Rule{{Name: "x", Prefixes: []string{""}, LRMult: 1}}, "empty prefix"},
	} {
		_, err := New(tc.params, tc.cfg, tc.rules)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "optim: ") {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// A bad step changes nothing: not the values, not the step count.
func TestStepErrorsLeaveParamsAlone(t *testing.T) {
	p := param("w", []int{2}, 1, 2)
	p.Grad = []float32{1, float32(math.Inf(1))}
	opt, err := New([]*Param{p}, Config{MaxGradNorm: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, lr := range []float64{-1, math.NaN(), math.Inf(1)} {
		if err := opt.Step(lr); err == nil || !strings.Contains(err.Error(), "learning rate") {
			t.Errorf("lr %v: error %v", lr, err)
		}
	}
	if err := opt.Step(0.1); err == nil || !strings.Contains(err.Error(), "gradient norm is +Inf") {
		t.Errorf("Inf gradient: error %v", err)
	}
	p.Grad = p.Grad[:1]
	if err := opt.Step(0.1); err == nil || !strings.Contains(err.Error(), "gradient has 1 elements") {
		t.Errorf("re-pointed short gradient: error %v", err)
	}
	if p.Value[0] != 1 || p.Value[1] != 2 || opt.StepCount() != 0 {
		t.Errorf("failed steps changed the state: values %v, step %d", p.Value, opt.StepCount())
	}
}

// Gradients (3, 4) have norm 5; clipping to 1 scales them by 1/(5+1e-6); clipping to 10
// leaves them alone.
func TestClipGradNorm(t *testing.T) {
	a := param("a", []int{1}, 0)
	b := param("b", []int{1}, 0)
	a.Grad[0], b.Grad[0] = 3, 4
	norm, err := ClipGradNorm([]*Param{a, b}, 10)
	if err != nil || norm != 5 || a.Grad[0] != 3 || b.Grad[0] != 4 {
		t.Fatalf("clip to 10: norm %v err %v grads %v %v", norm, err, a.Grad[0], b.Grad[0])
	}
	norm, err = ClipGradNorm([]*Param{a, b}, 1)
	if err != nil || norm != 5 {
		t.Fatalf("clip to 1: norm %v err %v", norm, err)
	}
	c := float32(1 / (5 + 1e-6))
	if a.Grad[0] != 3*c || b.Grad[0] != 4*c {
		t.Errorf("clipped grads %v %v, want %v %v", a.Grad[0], b.Grad[0], 3*c, 4*c)
	}
	if _, err := ClipGradNorm([]*Param{a}, 0); err == nil {
		t.Error("max norm 0 accepted")
	}
}
