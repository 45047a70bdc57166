package schedule

import (
	"fmt"
	"math"
	"strings"
)

// Kind names a schedule's shape.
type Kind string

// The schedules; see the package documentation for their formulas.
const (
	Constant Kind = "constant"
	Linear   Kind = "linear"
	Poly     Kind = "poly"
	Cosine   Kind = "cosine"
	Step     Kind = "step"
)

// Kinds lists every schedule, in the order help texts show them.
var Kinds = []Kind{Poly, Cosine, Step, Linear, Constant}

// Schedule is a learning-rate schedule over a run of Total steps. It is plain data (it
// serialises to JSON for checkpoints and run records); call Validate before using one that
// did not come from Flags.Build.
type Schedule struct {
	Kind        Kind      `json:"kind"`
	BaseLR      float64   `json:"base_lr"`
	FinalLR     float64   `json:"final_lr"`               // poly, cosine, linear; step: b·γ^k or 0
	Total       int       `json:"total"`                  // steps in the run (T)
	Power       float64   `json:"power,omitempty"`        // poly: p
	Milestones  []float64 `json:"milestones,omitempty"`   // step: fractions of T in (0, 1), increasing
	Gamma       float64   `json:"gamma,omitempty"`        // step: factor at each milestone, in (0, 1]
	Warmup      int       `json:"warmup,omitempty"`       // steps of linear warm-up (W), 0: none
	WarmupStart float64   `json:"warmup_start,omitempty"` // warm-up factor at step 0, in [0, 1]
}

// LR is the learning rate for step t (0-based: the LR the t-th update uses). Steps before 0
// count as 0 and steps after Total as Total.
func (s Schedule) LR(t int) float64 {
	t = max(0, min(t, s.Total))
	return s.main(t) * s.warmupFactor(t)
}

func (s Schedule) main(t int) float64 {
	b, f := s.BaseLR, s.FinalLR
	frac := float64(t) / float64(s.Total)
	switch s.Kind {
	case Linear:
		return b*(1-frac) + f*frac // exact b at t=0 and f at t=T
	case Poly:
		return (b-f)*math.Pow(1-frac, s.Power) + f
	case Cosine:
		return f + (b-f)*(1+math.Cos(math.Pi*frac))/2
	case Step:
		lr := b
		for _, m := range s.MilestoneSteps() {
			if t >= m {
				lr *= s.Gamma
			}
		}
		return lr
	default:
		return b
	}
}

func (s Schedule) warmupFactor(t int) float64 {
	if t >= s.Warmup {
		return 1
	}
	return s.WarmupStart + (1-s.WarmupStart)*float64(t)/float64(s.Warmup)
}

// MilestoneSteps are the steps at which a step schedule multiplies the LR by Gamma:
// round(fraction·Total) for each milestone.
func (s Schedule) MilestoneSteps() []int {
	steps := make([]int, len(s.Milestones))
	for i, m := range s.Milestones {
		steps[i] = int(math.Round(m * float64(s.Total)))
	}
	return steps
}

// Validate reports the first thing wrong with s, in the words of the command-line flags.
func (s Schedule) Validate() error {
	if _, err := ParseKind(string(s.Kind)); err != nil {
		return err
	}
	if !finite(s.BaseLR) || s.BaseLR <= 0 {
		return fmt.Errorf("schedule: --lr %v, want a number > 0", s.BaseLR)
	}
	if s.Total < 1 {
		return fmt.Errorf("schedule: the run has %d steps, want at least 1", s.Total)
	}
	if !finite(s.FinalLR) || s.FinalLR < 0 {
		return fmt.Errorf("schedule: --final-lr %v, want a number ≥ 0", s.FinalLR)
	}
	switch s.Kind {
	case Poly, Cosine, Linear:
		if s.FinalLR > s.BaseLR {
			return fmt.Errorf("schedule: %s decays from --lr %v to --final-lr %v, but the final LR is the larger", s.Kind, s.BaseLR, s.FinalLR)
		}
		if s.Kind == Poly && (!finite(s.Power) || s.Power <= 0) {
			return fmt.Errorf("schedule: poly --power %v, want a number > 0 (0.9 is usual)", s.Power)
		}
	case Constant:
		if s.FinalLR != 0 && s.FinalLR != s.BaseLR {
			return fmt.Errorf("schedule: constant keeps --lr %v throughout; --final-lr %v contradicts it (use --schedule linear/poly/cosine to decay)", s.BaseLR, s.FinalLR)
		}
	case Step:
		if err := s.validateStep(); err != nil {
			return err
		}
	}
	if s.Warmup < 0 || s.Warmup > s.Total {
		return fmt.Errorf("schedule: --warmup %d steps, want 0 … %d (the run's length)", s.Warmup, s.Total)
	}
	if s.Warmup > 0 && (!finite(s.WarmupStart) || s.WarmupStart < 0 || s.WarmupStart > 1) {
		return fmt.Errorf("schedule: --warmup-start %v, want a factor in [0, 1]", s.WarmupStart)
	}
	return nil
}

func (s Schedule) validateStep() error {
	if !finite(s.Gamma) || s.Gamma <= 0 || s.Gamma > 1 {
		return fmt.Errorf("schedule: step --gamma %v, want a factor in (0, 1] (0.1 is usual)", s.Gamma)
	}
	if len(s.Milestones) == 0 {
		return fmt.Errorf("schedule: step needs --milestones, fractions of the run such as 0.7,0.9")
	}
	steps := s.MilestoneSteps()
	for i, m := range s.Milestones {
		if !finite(m) || m <= 0 || m >= 1 {
			return fmt.Errorf("schedule: step milestone %v, want a fraction of the run strictly between 0 and 1", m)
		}
		if i > 0 && steps[i] <= steps[i-1] {
			return fmt.Errorf("schedule: step milestones %v and %v fall on steps %d and %d of %d; give increasing fractions that land on different steps",
				s.Milestones[i-1], m, steps[i-1], steps[i], s.Total)
		}
	}
	end := s.BaseLR * math.Pow(s.Gamma, float64(len(s.Milestones)))
	if s.FinalLR != 0 && math.Abs(s.FinalLR-end) > 1e-9*end {
		return fmt.Errorf("schedule: step ends at --lr×gamma^%d = %v; --final-lr %v disagrees (leave --final-lr out for step, or change --gamma)",
			len(s.Milestones), end, s.FinalLR)
	}
	return nil
}

// String describes the schedule in one line, for logs.
func (s Schedule) String() string {
	var b strings.Builder
	switch s.Kind {
	case Constant:
		fmt.Fprintf(&b, "constant %g for %d steps", s.BaseLR, s.Total)
	case Step:
		fmt.Fprintf(&b, "step from %g, ×%g at steps %v of %d", s.BaseLR, s.Gamma, s.MilestoneSteps(), s.Total)
	case Poly:
		fmt.Fprintf(&b, "poly (p=%g) from %g to %g over %d steps", s.Power, s.BaseLR, s.FinalLR, s.Total)
	default:
		fmt.Fprintf(&b, "%s from %g to %g over %d steps", s.Kind, s.BaseLR, s.FinalLR, s.Total)
	}
	if s.Warmup > 0 {
		fmt.Fprintf(&b, ", linear warm-up over %d steps from ×%g", s.Warmup, s.WarmupStart)
	}
	return b.String()
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
