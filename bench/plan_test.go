package bench

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/ops"
)

// segSteps runs steps of train seg's step (SGD between them) under the memory plan opt (nil:
// none) and returns every step's loss and gradients.
func segSteps(t *testing.T, head graphs.Head, steps int, opt *ops.PlanOptions) ([]float64, [][][]float32) {
	t.Helper()
	spec := smallSpec
	spec.Head = head
	c, err := TrainConfig{Spec: spec, Batch: 2, Size: 32}.normalized()
	if err != nil {
		t.Fatal(err)
	}
	s, ds, err := newStep(c, &TrainReport{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := oneBatch(ds, s.DataTask(), c)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRunnerPlanned(s, c.Batch, "", false, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	var losses []float64
	var grads [][][]float32
	for i := 0; i < steps; i++ {
		l, err := r.step(b, i)
		if err != nil {
			t.Fatal(err)
		}
		var gs [][]float32
		for _, p := range r.params {
			gs = append(gs, slices.Clone(p.Grad))
		}
		losses, grads = append(losses, l), append(grads, gs)
	}
	return losses, grads
}

// train seg's step under the memory plan gives the unplanned step's losses and gradients bit
// for bit over several steps, for heads with and without pyramid pooling and skip
// connections; lifetimes shortened by one instruction are seen.
func TestMemoryPlanSegIsExact(t *testing.T) {
	differ := func(la, lb []float64, ga, gb [][][]float32) string {
		for s := range la {
			if math.Float64bits(la[s]) != math.Float64bits(lb[s]) {
				return fmt.Sprintf("step %d: loss %v, want %v", s, la[s], lb[s])
			}
			for i := range ga[s] {
				if !slices.Equal(ga[s][i], gb[s][i]) {
					return fmt.Sprintf("step %d: gradient %d differs", s, i)
				}
			}
		}
		return ""
	}
	for _, head := range []graphs.Head{graphs.HeadFCN, graphs.HeadPSP, graphs.HeadDeepLabV3Plus, graphs.HeadNonLocal} {
		t.Run(string(head), func(t *testing.T) {
			const steps = 3
			wl, wg := segSteps(t, head, steps, nil)
			gl, gg := segSteps(t, head, steps, &ops.PlanOptions{})
			if d := differ(gl, wl, gg, wg); d != "" {
				t.Errorf("under the memory plan: %s", d)
			}
			bl, bg := segSteps(t, head, steps, &ops.PlanOptions{ShortenBy: 1})
			if differ(bl, wl, bg, wg) == "" {
				t.Error("lifetimes shortened by one instruction gave the same bits: the check has no teeth")
			}
		})
	}
}
