package schedule

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// Exact values at the first, middle and last step, worked out from the formulas
// (b = 0.01, f = 1e-4, T = 100).
func TestKnownPoints(t *testing.T) {
	b, f := 0.01, 1e-4
	for _, tc := range []struct {
		s              Schedule
		first, mid, at float64 // LR(0), LR(50), LR(100)
	}{
		{Schedule{Kind: Constant, BaseLR: b, Total: 100}, b, b, b},
		{Schedule{Kind: Linear, BaseLR: b, FinalLR: f, Total: 100}, b, (b + f) / 2, f},
		{Schedule{Kind: Poly, BaseLR: b, FinalLR: f, Power: 0.9, Total: 100}, b, (b-f)*math.Pow(0.5, 0.9) + f, f},
		{Schedule{Kind: Poly, BaseLR: b, Power: 1, Total: 100}, b, b / 2, 0},
		{Schedule{Kind: Cosine, BaseLR: b, FinalLR: f, Total: 100}, b, (b + f) / 2, f},
		// Milestones 0.5 and 0.9 → steps 50 and 90; step 50 already has the first decay.
		{Schedule{Kind: Step, BaseLR: b, Milestones: []float64{0.5, 0.9}, Gamma: 0.1, Total: 100}, b, b * 0.1, b * 0.1 * 0.1},
		// Warm-up over 100 steps from 0.5: at step 50 the factor is 0.75.
		{Schedule{Kind: Constant, BaseLR: b, Total: 100, Warmup: 100, WarmupStart: 0.5}, b * 0.5, b * 0.75, b},
	} {
		if err := tc.s.Validate(); err != nil {
			t.Fatal(err)
		}
		for i, step := range []int{0, 50, 100} {
			want := []float64{tc.first, tc.mid, tc.at}[i]
			if got := tc.s.LR(step); math.Abs(got-want) > 1e-15*want {
				t.Errorf("%v: LR(%d) = %.17g, want %.17g", tc.s, step, got, want)
			}
		}
		// Outside [0, T] the LR is clamped to the ends.
		if tc.s.LR(-5) != tc.s.LR(0) || tc.s.LR(1000) != tc.s.LR(100) {
			t.Errorf("%v: LR outside the run is not clamped", tc.s)
		}
	}
}

func TestValidateErrors(t *testing.T) {
	ok := Schedule{Kind: Poly, BaseLR: 0.01, FinalLR: 1e-4, Power: 0.9, Total: 100}
	with := func(edit func(*Schedule)) Schedule { s := ok; edit(&s); return s }
	step := Schedule{Kind: Step, BaseLR: 0.01, Milestones: []float64{0.7, 0.9}, Gamma: 0.1, Total: 100}
	withStep := func(edit func(*Schedule)) Schedule { s := step; edit(&s); return s }
	for _, tc := range []struct {
		s    Schedule
		want string
	}{
		{with(func(s *Schedule) { s.Kind = "cosin" }), `unknown schedule "cosin" (did you mean "cosine"?)`},
		{with(func(s *Schedule) { s.BaseLR = 0 }), "--lr 0, want a number > 0"},
		{with(func(s *Schedule) { s.BaseLR = math.NaN() }), "--lr NaN"},
		{with(func(s *Schedule) { s.Total = 0 }), "0 steps"},
		{with(func(s *Schedule) { s.FinalLR = 0.1 }), "final LR is the larger"},
		{with(func(s *Schedule) { s.FinalLR = -1 }), "--final-lr -1"},
		{with(func(s *Schedule) { s.Power = 0 }), "--power 0"},
		{with(func(s *Schedule) { s.Warmup = 101 }), "--warmup 101 steps, want 0 … 100"},
		{with(func(s *Schedule) { s.Warmup = 10; s.WarmupStart = 2 }), "--warmup-start 2"},
		{Schedule{Kind: Constant, BaseLR: 0.1, FinalLR: 0.01, Total: 10}, "constant keeps --lr 0.1"},
		{withStep(func(s *Schedule) { s.Gamma = 2 }), "--gamma 2"},
		{withStep(func(s *Schedule) { s.Milestones = nil }), "needs --milestones"},
		{withStep(func(s *Schedule) { s.Milestones = []float64{70} }), "milestone 70, want a fraction"},
		{withStep(func(s *Schedule) { s.Milestones = []float64{0.9, 0.7} }), "fall on steps 90 and 70"},
		{withStep(func(s *Schedule) { s.Total = 10; s.Milestones = []float64{0.7, 0.74} }), "fall on steps 7 and 7 of 10"},
		{withStep(func(s *Schedule) { s.FinalLR = 1e-3 }), "--final-lr 0.001 disagrees"},
	} {
		err := tc.s.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "schedule: ") {
			t.Errorf("%+v: error %v, want one containing %q", tc.s, err, tc.want)
		}
	}
	// A consistent final LR for step is accepted.
	if err := withStep(func(s *Schedule) { s.FinalLR = 1e-4 }).Validate(); err != nil {
		t.Error(err)
	}
}

func TestParseKind(t *testing.T) {
	for in, want := range map[string]Kind{"poly": Poly, " Cosine ": Cosine, "STEP": Step, "polynomial": Poly, "multistep": Step, "linear": Linear, "constant": Constant} {
		if got, err := ParseKind(in); err != nil || got != want {
			t.Errorf("ParseKind(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	_, err := ParseKind("exponential")
	if err == nil || strings.Contains(err.Error(), "did you mean") || !strings.Contains(err.Error(), "known: poly, cosine, step, linear, constant") {
		t.Errorf("far-off name: %v", err)
	}
}

func TestStringAndJSON(t *testing.T) {
	s := Schedule{Kind: Poly, BaseLR: 0.01, FinalLR: 1e-4, Power: 0.9, Total: 20000, Warmup: 100, WarmupStart: 0.001}
	if got, want := s.String(), "poly (p=0.9) from 0.01 to 0.0001 over 20000 steps, linear warm-up over 100 steps from ×0.001"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back Schedule
	if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, s) {
		t.Errorf("JSON round trip: %s → %+v (%v)", raw, back, err)
	}
}
