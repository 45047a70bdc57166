//go:build cgo

package experiment

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
)

// tinyDevice is a grid of one pre-training stage and two cells at the smallest sizes.
const tinyDevice = `
title = "tiny device"
data = "synthetic:size=32,n=8,val=2,classes=3,objects=2"
seeds = [3]

[pretrain]
encoder = "resnet18"
width = 0.0625
size = 32
batch = 4
iters = 2
scale = "cpu"
queue = 16
dim = 16

[finetune]
encoder = "resnet18"
width = 0.0625
crop = 32
batch = 2
iters = 2
val-every = 0

[[head]]
name = "FCN"
head = "fcn"

[[row]]
name = "RandomInit"

[[row]]
name = "MoCo v2"
stages = [{ method = "moco" }]
`

// TestExperimentOnEmulatedDevice: Options.Device reaches the cells' train seg and the moco
// stage (done.json records it: emulated), and the same grid run again on the CPU reuses
// every finished folder, because the device is not part of any key.
func TestExperimentOnEmulatedDevice(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	p := mustPlan(t, tinyDevice, PlanOptions{})
	out := t.TempDir()
	log := &cancelOn{}
	res, err := Run(context.Background(), p, Options{Out: out, Log: log, OrtLib: lib, Device: "emulated"})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.buf.String())
	}
	dirs := []string{p.Stages[0].Dir, p.Cells[0].Dir, p.Cells[1].Dir}
	for _, d := range dirs {
		if res.Done[d] != Ran {
			t.Fatalf("%s: %s, want ran", d, res.Done[d])
		}
		rec, err := readRecord(filepath.Join(out, d))
		if err != nil || rec == nil {
			t.Fatalf("%s: record %v, %v", d, rec, err)
		}
		if rec.Device != "emulated" {
			t.Errorf("%s: done.json says device %q, want emulated", d, rec.Device)
		}
		for _, a := range rec.Args {
			if strings.HasPrefix(a, "--device") {
				t.Errorf("%s: the recorded args (the key's) hold %s", d, a)
			}
		}
	}
	res, err = Run(context.Background(), p, Options{Out: out, Log: log, OrtLib: lib, Device: "cpu"})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if res.Done[d] != Reused {
			t.Errorf("%s on the CPU after the emulated device: %s, want reused", d, res.Done[d])
		}
	}
}
