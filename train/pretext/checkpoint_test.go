package pretext

import (
	"bytes"
	"slices"
	"sort"
	"testing"

	"github.com/ssl4dp/ssl4dp/graphs"
)

// tinyOptions is the network and views of the fast tests.
func tinyOptions(size int) Options {
	return Options{Net: Net{Encoder: graphs.ResNet18, Width: 0.0625, OutputStride: 16, DecoderWidth: 8}, Size: size, Seed: 1, Steps: 6}
}

// tinyConfig is a method's CPU configuration with queues and heads shrunk for tests.
func tinyConfig(t testing.TB, method string) Config {
	t.Helper()
	c, err := Defaults(method, CPU)
	if err != nil {
		t.Fatal(err)
	}
	switch cc := c.(type) {
	case *MoCoConfig:
		cc.Dim, cc.Queue = 16, 24
	case *SimCLRConfig:
		cc.Dim = 16
	case *BYOLConfig:
		cc.Dim, cc.Hidden, cc.PredictorHidden = 16, 32, 32
	case *SimSiamConfig:
		cc.Dim = 32
	case *PLRConfig:
		cc.Grid = 2
	case *PLMoCoConfig:
		cc.Dim, cc.Queue, cc.DenseDim, cc.DenseQueue, cc.GlobalWeight = 16, 24, 16, 40, 0.5
	case *DenseCLConfig:
		cc.Dim, cc.Queue, cc.DenseDim, cc.DenseQueue = 16, 24, 16, 40
	case *PixProConfig:
		cc.Dim, cc.Hidden, cc.InstanceWeight = 16, 32, 0.5
	case *CP2Config:
		cc.Dim, cc.Queue = 16, 24
	}
	return c
}

// A run stopped after step 2 and resumed from its checkpoint (task files and optimizer
// state) ends with bit-identical networks, key networks and queues.
func TestCheckpointRestoreIsExact(t *testing.T) {
	for _, method := range Methods {
		t.Run(method, func(t *testing.T) {
			const n, size, steps, stop = 4, 32, 6, 3
			newTask := func() Task {
				task, err := New(method, tinyOptions(size), tinyConfig(t, method))
				if err != nil {
					t.Fatal(err)
				}
				return task
			}
			whole := newTask()
			bs := batches(t, whole, n, steps)
			a := buildDriver(t, whole, n, 0.05)
			for _, b := range bs {
				a.run(b)
			}
			want, err := whole.Checkpoint()
			if err != nil {
				t.Fatal(err)
			}

			first := newTask()
			b1 := buildDriver(t, first, n, 0.05)
			for _, b := range bs[:stop] {
				b1.run(b)
			}
			files, err := first.Checkpoint()
			if err != nil {
				t.Fatal(err)
			}
			var opt bytes.Buffer
			if err := b1.opt.SaveState(&opt); err != nil {
				t.Fatal(err)
			}

			resumed := newTask()
			b2 := buildDriver(t, resumed, n, 0.05)
			if err := resumed.Restore(files); err != nil {
				t.Fatal(err)
			}
			if err := b2.opt.LoadState(&opt); err != nil {
				t.Fatal(err)
			}
			b2.step = stop
			for _, b := range bs[stop:] {
				b2.run(b)
			}
			got, err := resumed.Checkpoint()
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(sortedNames(got), sortedNames(want)) {
				t.Fatalf("resumed checkpoint has %v, want %v", sortedNames(got), sortedNames(want))
			}
			for name, w := range want {
				if !bytes.Equal(got[name], w) {
					t.Errorf("%s differs between the resumed and the uninterrupted run", name)
				}
			}
		})
	}
}

func sortedNames(m map[string][]byte) []string {
	var ns []string
	for k := range m {
		ns = append(ns, k)
	}
	sort.Strings(ns)
	return ns
}

func TestRestoreRefusesAnotherRun(t *testing.T) {
	task, err := New("moco", tinyOptions(32), tinyConfig(t, "moco"))
	if err != nil {
		t.Fatal(err)
	}
	buildDriver(t, task, 4, 0.05)
	files, err := task.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	other := tinyConfig(t, "moco").(*MoCoConfig)
	other.Queue = 32
	task2, err := New("moco", tinyOptions(32), other)
	if err != nil {
		t.Fatal(err)
	}
	buildDriver(t, task2, 4, 0.05)
	if err := task2.Restore(files); err == nil || !contains(err.Error(), "24×16") {
		t.Errorf("restoring a queue of another size: %v", err)
	}
	delete(files, KeyFile)
	if err := task.Restore(files); err == nil || !contains(err.Error(), "key.onnx") {
		t.Errorf("restoring without key.onnx: %v", err)
	}
}
