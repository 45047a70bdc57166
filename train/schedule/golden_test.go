package schedule

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// testdata/schedules_golden.json is written by scripts/gen_train_golden.py: torch 1.13's
// schedulers (CosineAnnealingLR, MultiStepLR, LinearLR, PolynomialLR, ChainedScheduler for
// warm-up) stepped T times, or mmseg's closed form for poly with a final LR.
type goldenCase struct {
	Name        string    `json:"name"`
	Kind        Kind      `json:"kind"`
	BaseLR      float64   `json:"base_lr"`
	FinalLR     float64   `json:"final_lr"`
	Total       int       `json:"total"`
	Power       float64   `json:"power"`
	Milestones  []float64 `json:"milestones"`
	Gamma       float64   `json:"gamma"`
	Warmup      int       `json:"warmup"`
	WarmupStart float64   `json:"warmup_start"`
	LRs         []float64 `json:"lrs"`
}

func TestSchedulesMatchTorch(t *testing.T) {
	raw, err := os.ReadFile("testdata/schedules_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g struct {
		Cases []goldenCase `json:"cases"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	kinds := map[Kind]bool{}
	for _, c := range g.Cases {
		s := Schedule{Kind: c.Kind, BaseLR: c.BaseLR, FinalLR: c.FinalLR, Total: c.Total, Power: c.Power,
			Milestones: c.Milestones, Gamma: c.Gamma, Warmup: c.Warmup, WarmupStart: c.WarmupStart}
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		if len(c.LRs) != c.Total+1 {
			t.Fatalf("%s: %d golden values, want %d", c.Name, len(c.LRs), c.Total+1)
		}
		kinds[c.Kind] = true
		// torch steps its schedulers recursively (lr_t = lr_{t−1}·ratio), so it differs from
		// the closed form by float64 rounding only: 1e-12 relative is far above that and far
		// below any formula difference.
		for step, want := range c.LRs {
			if got := s.LR(step); math.Abs(got-want) > 1e-12*math.Abs(want)+1e-18 {
				t.Errorf("%s: LR(%d) = %.17g, golden %.17g", c.Name, step, got, want)
			}
		}
	}
	for _, k := range []Kind{Poly, Cosine, Step, Linear} {
		if !kinds[k] {
			t.Errorf("golden file has no %s case", k)
		}
	}
}
