package optim

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"testing"
)

// The golden file is written by scripts/gen_train_golden.py with torch.optim.SGD (torch 1.13).
type goldenFile struct {
	Cases []goldenCase `json:"cases"`
}

type goldenCase struct {
	Name          string               `json:"name"`
	Momentum      float64              `json:"momentum"`
	WeightDecay   float64              `json:"weight_decay"`
	Nesterov      bool                 `json:"nesterov"`
	MaxGradNorm   float64              `json:"max_grad_norm"`
	EncoderLRMult float64              `json:"encoder_lr_mult"`
	HeadPrefix    string               `json:"head_prefix"`
	Shapes        map[string][]int     `json:"shapes"`
	Initial       map[string][]float32 `json:"initial"`
	Steps         []struct {
		LR          float64              `json:"lr"`
		Grads       map[string][]float32 `json:"grads"`
		GradNorm    *float64             `json:"grad_norm"`
		ParamsAfter map[string][]float32 `json:"params_after"`
	} `json:"steps"`
	MomentumBuffers map[string][]float32 `json:"momentum_buffers"`
}

// order is the parameter order of the golden model (the script's PARAM_SHAPES).
var order = []string{"conv1.weight", "bn1.weight", "bn1.bias", "head.conv_seg.weight", "head.conv_seg.bias"}

func loadGolden(t *testing.T) []goldenCase {
	t.Helper()
	raw, err := os.ReadFile("testdata/sgd_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g goldenFile
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) != 4 {
		t.Fatalf("golden has %d cases, want 4", len(g.Cases))
	}
	return g.Cases
}

// build makes the case's parameters (fresh copies of the initial values) and optimizer.
func (c *goldenCase) build(t *testing.T) ([]*Param, *SGD) {
	t.Helper()
	var params []*Param
	for _, n := range order {
		params = append(params, &Param{
			Name:  n,
			Shape: c.Shapes[n],
			Value: append([]float32(nil), c.Initial[n]...),
			Grad:  make([]float32, len(c.Initial[n])),
		})
	}
	cfg := Config{Momentum: c.Momentum, WeightDecay: c.WeightDecay, Nesterov: c.Nesterov, MaxGradNorm: c.MaxGradNorm}
	opt, err := New(params, cfg, HeadEncoderRules([]string{c.HeadPrefix}, c.EncoderLRMult))
	if err != nil {
		t.Fatal(err)
	}
	return params, opt
}

// run does golden steps [from, to) on params.
func (c *goldenCase) run(t *testing.T, params []*Param, opt *SGD, from, to int) {
	t.Helper()
	for s := from; s < to; s++ {
		st := c.Steps[s]
		for _, p := range params {
			copy(p.Grad, st.Grads[p.Name])
		}
		if err := opt.Step(st.LR); err != nil {
			t.Fatal(err)
		}
		if st.GradNorm != nil {
			if got := opt.LastGradNorm(); !close64(got, *st.GradNorm, 1e-6) {
				t.Errorf("%s step %d: gradient norm %v, torch %v", c.Name, s, got, *st.GradNorm)
			}
		}
		for _, p := range params {
			compare(t, c.Name, s, p.Name, p.Value, st.ParamsAfter[p.Name])
		}
	}
}

// compare allows 1e-6 relative error plus 4 float32 roundings of the tensor's largest
// magnitude: a momentum buffer can be a difference of two near-equal terms (0.9·0.575 − 0.502
// = 0.0157), where one rounding of the terms is a large relative error of the result. Formula
// mistakes move values far more: leaving out the decay of one step (lr·wd·p ≈ 5e-6 here),
// decaying the velocity, or dropping Nesterov all fail.
func compare(t *testing.T, tc string, step int, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s step %d %s: %d values, want %d", tc, step, name, len(got), len(want))
	}
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(float64(w)))
	}
	floor := 4 * 0x1p-24 * scale
	for i := range got {
		if math.Abs(float64(got[i])-float64(want[i])) > 1e-6*math.Abs(float64(want[i]))+floor {
			t.Errorf("%s step %d %s[%d] = %.9g, torch %.9g", tc, step, name, i, got[i], want[i])
			return
		}
	}
}

func close64(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Abs(want)+1e-7
}

func TestSGDMatchesTorch(t *testing.T) {
	for _, c := range loadGolden(t) {
		t.Run(c.Name, func(t *testing.T) {
			params, opt := c.build(t)
			c.run(t, params, opt, 0, len(c.Steps))
			for i, n := range order {
				compare(t, c.Name, len(c.Steps), n+" (momentum buffer)", opt.buf[i], c.MomentumBuffers[n])
			}
			if opt.StepCount() != len(c.Steps) {
				t.Errorf("StepCount %d, want %d", opt.StepCount(), len(c.Steps))
			}
		})
	}
}

// A run saved after two steps and resumed in a fresh optimizer must follow torch's trajectory
// exactly: the state carries everything the update depends on.
func TestSGDResumeMatchesTorch(t *testing.T) {
	for _, c := range loadGolden(t) {
		t.Run(c.Name, func(t *testing.T) {
			params, opt := c.build(t)
			c.run(t, params, opt, 0, 2)
			var state bytes.Buffer
			if err := opt.SaveState(&state); err != nil {
				t.Fatal(err)
			}
			values := map[string][]float32{}
			for _, p := range params {
				values[p.Name] = append([]float32(nil), p.Value...)
			}

			params2, opt2 := c.build(t)
			for _, p := range params2 {
				copy(p.Value, values[p.Name])
			}
			if err := opt2.LoadState(&state); err != nil {
				t.Fatal(err)
			}
			if opt2.StepCount() != 2 {
				t.Fatalf("StepCount after load %d, want 2", opt2.StepCount())
			}
			c.run(t, params2, opt2, 2, len(c.Steps))
		})
	}
}
