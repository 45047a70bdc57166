package bench

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/ops"
)

// StepProfile is `bench train --profile`: where one step's time goes, averaged over the
// timed steps. Ops rows come from ops' profile (each op kind's forward or backward runs);
// Outside rows are the parts of the step that ran no op of ours.
type StepProfile struct {
	Steps   int                `json:"steps"`
	StepS   float64            `json:"step_s"` // mean seconds per step: the sum of every row
	Ops     []ProfileRow       `json:"ops"`
	Outside []ProfileRow       `json:"outside"`
	OpsS    float64            `json:"ops_s"`    // seconds per step inside ops
	PhasesS map[string]float64 `json:"phases_s"` // bind, run, optimizer, after_step: seconds per step, ops included
}

// ProfileRow is one line of the profile table, per step.
type ProfileRow struct {
	Name      string  `json:"name"`
	Pass      string  `json:"pass,omitempty"` // forward or backward (op rows)
	Calls     float64 `json:"calls"`          // runs per step (op rows)
	MS        float64 `json:"ms"`             // milliseconds per step
	Share     float64 `json:"share"`          // of the step's time
	GFLOPPerS float64 `json:"gflop_per_s,omitempty"`
}

// The parts of a step outside the ops, as the profile names them.
const (
	outsideMachine   = "tape machine (Gorgonia's own ops and bookkeeping)"
	outsideBind      = "bind (batch into the graph; momentum-network bookkeeping)"
	outsideOptimizer = "optimizer (gradients collected, SGD update)"
	outsideAfter     = "after-step (EMA updates, queues)"
)

// newStepProfile turns a profile of steps steps and their phase times into per-step rows.
func newStepProfile(p *ops.Profile, ph phaseTimes, steps int) *StepProfile {
	per := 1 / float64(steps)
	sp := &StepProfile{Steps: steps, PhasesS: map[string]float64{
		"bind": ph.Bind.total * per, "run": ph.Run.total * per, "optimizer": ph.Optimizer.total * per, "after_step": ph.AfterStep.total * per}}
	sp.StepS = (ph.Bind.total + ph.Run.total + ph.Optimizer.total + ph.AfterStep.total) * per
	for _, r := range p.Rows() {
		row := ProfileRow{Name: r.Op, Pass: "forward", Calls: float64(r.Calls) * per, MS: 1e3 * r.Seconds * per}
		if r.Backward {
			row.Pass = "backward"
		}
		if r.FLOPs > 0 && r.Seconds > 0 {
			row.GFLOPPerS = r.FLOPs / r.Seconds / 1e9
		}
		sp.Ops = append(sp.Ops, row)
		sp.OpsS += r.Seconds * per
	}
	for _, o := range []struct {
		name string
		p    phase
	}{{outsideMachine, ph.Run}, {outsideBind, ph.Bind}, {outsideOptimizer, ph.Optimizer}, {outsideAfter, ph.AfterStep}} {
		sp.Outside = append(sp.Outside, ProfileRow{Name: o.name, MS: 1e3 * o.p.outside() * per})
	}
	for _, rows := range [][]ProfileRow{sp.Ops, sp.Outside} {
		for i := range rows {
			if sp.StepS > 0 {
				rows[i].Share = rows[i].MS / 1e3 / sp.StepS
			}
		}
	}
	return sp
}

// write prints the profile as a table.
func (sp *StepProfile) write(ew *errWriter) {
	ew.printf("\nprofile over %d steps (mean %.1f ms per step; %.1f ms inside ops):\n", sp.Steps, 1e3*sp.StepS, 1e3*sp.OpsS)
	if sp.OpsS > sp.StepS {
		// train/pretext runs a momentum network's pass on its own goroutine beside the online
		// network's, so their op times overlap; shares are still of the step's wall time.
		ew.printf("(ops ran concurrently — a momentum network beside the online pass — so the op rows add up to more than the step)\n")
	}
	ew.printf("%-44s %-8s %7s %9s %6s %8s\n", "op", "pass", "calls", "ms/step", "share", "GFLOP/s")
	for _, r := range sp.Ops {
		gf := "-"
		if r.GFLOPPerS > 0 {
			gf = fmt.Sprintf("%.1f", r.GFLOPPerS)
		}
		ew.printf("%-44s %-8s %7.1f %9.1f %5.1f%% %8s\n", r.Name, r.Pass, r.Calls, r.MS, 100*r.Share, gf)
	}
	ew.printf("outside ops:\n")
	for _, r := range sp.Outside {
		ew.printf("%-61s %9.1f %5.1f%%\n", r.Name, r.MS, 100*r.Share)
	}
}
