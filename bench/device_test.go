//go:build cgo

package bench

import (
	"math"
	"strings"
	"testing"
)

// TestTrainOnEmulatedDevice: bench train on the emulated device times the seg step and MoCo's
// step (the momentum network and queue resident too) with the state resident there and takes
// the CPU's steps: the first and last of three steps' losses within 1e-4 relative of the CPU
// bench's (the last one follows two SGD updates run on the device); the report names the
// device; --tf32 off CUDA is refused.
func TestTrainOnEmulatedDevice(t *testing.T) {
	for _, method := range []string{"seg", "moco"} {
		t.Run(method, func(t *testing.T) { emulatedMatchesCPU(t, method) })
	}
	if _, err := Train(TrainConfig{Spec: smallSpec, Batch: 2, Size: 32, Steps: 1, Device: "emulated", TF32: true}); err == nil || !strings.Contains(err.Error(), "want device cuda") {
		t.Errorf("tf32 on the emulated device: %v", err)
	}
}

func emulatedMatchesCPU(t *testing.T, method string) {
	losses := map[string][2]float64{}
	batch := 2
	if method != "seg" {
		batch = 4 // MoCo's key chunks of at least 2
	}
	for _, dev := range []string{"cpu", "emulated"} {
		r, err := Train(TrainConfig{Method: method, Spec: smallSpec, Batch: batch, Size: 32, Steps: 2, Warmup: 1, Threads: 1, Device: dev})
		if err != nil {
			t.Fatal(err)
		}
		if r.Device != dev || r.StepS.N != 2 {
			t.Fatalf("report: device %q, %d timed steps; want %q, 2", r.Device, r.StepS.N, dev)
		}
		var text strings.Builder
		if err := r.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text.String(), "device: "+dev) {
			t.Errorf("text does not name device %s:\n%s", dev, text.String())
		}
		losses[dev] = [2]float64{r.LossFirst, r.LossLast}
	}
	for i, what := range []string{"first", "last"} {
		c, e := losses["cpu"][i], losses["emulated"][i]
		if math.Abs(e-c) > 1e-4*math.Abs(c) {
			t.Errorf("%s loss %v on the emulated device, %v on the CPU", what, e, c)
		}
	}
	if losses["cpu"][0] == losses["cpu"][1] {
		t.Errorf("the loss did not move (%v): the comparison would not see the update", losses["cpu"])
	}
	t.Logf("losses %v", losses)
}
