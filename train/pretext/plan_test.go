package pretext

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// planRun is what a few steps of a method gave: per step the loss, every gradient and the
// monitors; at the end the checkpoint (both networks, the queues).
type planRun struct {
	losses   []float64
	grads    [][][]float32
	monitors [][]runlog.Monitor
	files    map[string][]byte
}

// runPlanned runs steps of method on the same batches with the memory plan under opt (nil:
// no plan), as the engine plans it (train.PlanMemory).
func runPlanned(t *testing.T, method string, steps int, opt *ops.PlanOptions) planRun {
	t.Helper()
	const n, size = 4, 32
	planKeyNets = opt != nil // the momentum network too
	defer func() { planKeyNets = true }()
	task, err := New(method, tinyOptions(size), tinyConfig(t, method))
	if err != nil {
		t.Fatal(err)
	}
	bs := batches(t, task, n, steps)
	d := buildDriver(t, task, n, 0.05)
	d.monitor = true
	if opt != nil {
		p, err := train.PlanMemory(task, *opt)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(p.Release)
		if opt.ShortenBy == 0 {
			t.Logf("%s: %v", method, p)
		}
	}
	var r planRun
	for _, b := range bs {
		r.losses = append(r.losses, d.run(b))
		var gs [][]float32
		for _, p := range d.params {
			gs = append(gs, slices.Clone(p.Grad))
		}
		r.grads = append(r.grads, gs)
	}
	r.monitors = d.monitors
	if r.files, err = task.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	return r
}

// diff says where two runs differ, bit for bit ("" if nowhere).
func (a planRun) diff(b planRun) string {
	for s := range a.losses {
		if math.Float64bits(a.losses[s]) != math.Float64bits(b.losses[s]) {
			return fmt.Sprintf("step %d: loss %v, want %v", s, a.losses[s], b.losses[s])
		}
		for i := range a.grads[s] {
			if !slices.Equal(a.grads[s][i], b.grads[s][i]) {
				return fmt.Sprintf("step %d: gradient %d differs", s, i)
			}
		}
		if len(a.monitors[s]) != len(b.monitors[s]) {
			return fmt.Sprintf("step %d: %d monitors, want %d", s, len(a.monitors[s]), len(b.monitors[s]))
		}
		for i, m := range a.monitors[s] {
			if w := b.monitors[s][i]; m.Name != w.Name || math.Float64bits(m.Value) != math.Float64bits(w.Value) {
				return fmt.Sprintf("step %d: monitor %s %v, want %s %v", s, m.Name, m.Value, w.Name, w.Value)
			}
		}
	}
	for name, f := range b.files {
		if !bytes.Equal(a.files[name], f) {
			return "checkpoint file " + name + " differs"
		}
	}
	return ""
}

// The memory plan changes no bit of any method's training: three steps' losses, every
// gradient, the monitors and the checkpoint (momentum network, queues) equal the unplanned
// run's. A plan whose lifetimes end one instruction early is seen.
func TestMemoryPlanIsExact(t *testing.T) {
	for _, method := range Methods {
		t.Run(method, func(t *testing.T) {
			const steps = 3
			want := runPlanned(t, method, steps, nil)
			if d := runPlanned(t, method, steps, &ops.PlanOptions{}).diff(want); d != "" {
				t.Errorf("under the memory plan: %s", d)
			}
			if runPlanned(t, method, steps, &ops.PlanOptions{ShortenBy: 1}).diff(want) == "" {
				t.Error("lifetimes shortened by one instruction gave the same bits: the check has no teeth")
			}
		})
	}
}

// A monitor reading a node the plan lets later nodes overwrite is an error naming the node.
func TestMonitorRefusesTransientNode(t *testing.T) {
	task, err := New("moco", tinyOptions(32), tinyConfig(t, "moco"))
	if err != nil {
		t.Fatal(err)
	}
	d := buildDriver(t, task, 4, 0.05)
	p, err := train.PlanMemory(task, ops.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Release)
	d.run(batches(t, task, 4, 1)[0])
	if _, err := nodeValues(task.(*MoCo).logits); err != nil {
		t.Fatalf("kept logits: %v", err)
	}
	for _, n := range task.Graph().AllNodes() {
		if ops.Transient(n) {
			if _, err := nodeValues(n); err == nil {
				t.Errorf("transient %s read without an error", n.Name())
			}
			return
		}
	}
	t.Fatal("no transient node in MoCo's step")
}
