package pretext

import (
	"bytes"
	"math"
	"slices"
	"testing"
	"time"
)

// momentumMethods are the methods with a momentum network, whose forward pass overlaps the
// online one (keyPass).
var momentumMethods = []string{"moco", "plmoco", "byol"}

// inlineKeyPasses makes the key passes run inside Bind, one after the other as before the
// overlap, until the test ends.
func inlineKeyPasses(t *testing.T) {
	saved := startKeyPass
	startKeyPass = func(f func() ([][]float32, error)) *keyPass {
		p := &keyPass{done: make(chan struct{})}
		p.outs, p.err = f()
		close(p.done)
		return p
	}
	t.Cleanup(func() { startKeyPass = saved })
}

// Running the momentum network beside the online network gives the same bits as running it
// first: losses, both networks and the queues after a few steps.
func TestKeyPassOverlapIsExact(t *testing.T) {
	for _, method := range momentumMethods {
		t.Run(method, func(t *testing.T) {
			const n, size, steps = 4, 32, 4
			run := func() ([]float64, map[string][]byte) {
				task, err := New(method, tinyOptions(size), tinyConfig(t, method))
				if err != nil {
					t.Fatal(err)
				}
				bs := batches(t, task, n, steps)
				d := buildDriver(t, task, n, 0.05)
				var ls []float64
				for _, b := range bs {
					ls = append(ls, d.run(b))
				}
				files, err := task.Checkpoint()
				if err != nil {
					t.Fatal(err)
				}
				return ls, files
			}
			overlapped, got := run()
			inlineKeyPasses(t)
			inline, want := run()
			if !slices.Equal(overlapped, inline) {
				t.Errorf("losses %v overlapped, %v one after the other", overlapped, inline)
			}
			if len(got) != len(want) {
				t.Fatalf("checkpoint files %d, want %d", len(got), len(want))
			}
			for name, b := range want {
				if !bytes.Equal(got[name], b) {
					t.Errorf("%s differs", name)
				}
			}
		})
	}
}

// Bind returns without waiting for the momentum network: the machine's run waits for it at
// the keys node, and the step then completes as usual.
func TestBindDoesNotWaitForTheKeyPass(t *testing.T) {
	for _, method := range momentumMethods {
		t.Run(method, func(t *testing.T) {
			const n, size = 4, 32
			task, err := New(method, tinyOptions(size), tinyConfig(t, method))
			if err != nil {
				t.Fatal(err)
			}
			bs := batches(t, task, n, 1)
			d := buildDriver(t, task, n, 0.05)
			gate := make(chan struct{})
			saved := startKeyPass
			startKeyPass = func(f func() ([][]float32, error)) *keyPass {
				return saved(func() ([][]float32, error) {
					<-gate
					return f()
				})
			}
			defer func() { startKeyPass = saved }()
			bound := make(chan error, 1)
			go func() { bound <- task.Bind(bs[0], 0) }()
			select {
			case err := <-bound:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(30 * time.Second):
				close(gate)
				t.Fatal("Bind waited for the key pass")
			}
			close(gate)
			d.vm.Reset()
			if err := d.vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			if l := scalarValue(t, task.Loss()); math.IsNaN(l) || math.IsInf(l, 0) {
				t.Fatalf("loss %v", l)
			}
			if err := task.AfterStep(0); err != nil {
				t.Fatal(err)
			}
		})
	}
}
