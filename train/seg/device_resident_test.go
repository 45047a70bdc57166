//go:build cgo

package seg

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops/device"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// residentArgs train with every part of the update the device does itself: momentum with
// Nesterov, weight decay (and the groups it excludes), two LR groups, and a gradient-norm
// clip small enough to act on every step.
func residentArgs(dev, out string, iters string) []string {
	return []string{"--encoder", "resnet18", "--width", "0.0625", "--data", "synthetic:size=32,n=8,val=2,classes=3",
		"--crop", "32", "--batch", "2", "--iters", iters, "--device", dev, "--out", out, "--nesterov",
		"--weight-decay", "1e-3", "--encoder-lr-mult", "0.5", "--max-grad-norm", "0.05", "--lr", "0.05"}
}

// TestTrainSegEmulatedResident: five steps on the emulated device with the parameters,
// momentum buffers and BatchNorm statistics resident and the SGD update run there
// (sgd_update, the norm by sum_partial/sum_final, the clip by scale) give the CPU's five
// losses (1e-4 relative) and its final weights and statistics (model.onnx, each tensor within
// 1e-4 of its largest magnitude); and a step moves only its batch (and the ops' small launch
// tables) in and scalars out, none of the state: half the difference between a 5-step and a
// 3-step run's copies is one step's traffic; the batch, all of it, through pinned staging.
func TestTrainSegEmulatedResident(t *testing.T) {
	var emu *device.Emulated
	train.DeviceOpened = func(d device.Device) { emu, _ = d.(*device.Emulated) }
	defer func() { train.DeviceOpened = nil }()
	losses := map[string][]float64{}
	outs := map[string]string{}
	traffic := map[string][3]int{}
	for _, run := range []struct{ dev, iters string }{{"cpu", "5"}, {"emulated", "5"}, {"emulated", "3"}} {
		out := filepath.Join(t.TempDir(), run.dev+run.iters)
		emu = nil
		trainSeg(t, residentArgs(run.dev, out, run.iters)...)
		if run.dev == "emulated" {
			if emu == nil {
				t.Fatal("the emulated run opened no emulated device")
			}
			traffic[run.iters] = [3]int{emu.BytesIn, emu.BytesOut, emu.PinnedIn}
		}
		if run.iters != "5" {
			continue
		}
		log, err := runlog.ReadFile(filepath.Join(out, "metrics.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range log.Train {
			losses[run.dev] = append(losses[run.dev], r.Loss)
		}
		outs[run.dev] = out
	}
	cpu, dev := losses["cpu"], losses["emulated"]
	if len(cpu) != 5 || len(dev) != 5 {
		t.Fatalf("steps logged: cpu %d, emulated %d, want 5", len(cpu), len(dev))
	}
	for i := range cpu {
		if math.Abs(dev[i]-cpu[i]) > 1e-4*math.Abs(cpu[i]) {
			t.Errorf("step %d: loss %v on the emulated device, %v on the CPU", i, dev[i], cpu[i])
		}
	}
	a := readModel(t, filepath.Join(outs["cpu"], ModelFile))
	b := onnx.Initializers(readModel(t, filepath.Join(outs["emulated"], ModelFile)).Graph)
	checked, worst := 0, 0.0
	for _, ta := range a.Graph.Initializer {
		if !isFloat(ta) {
			continue
		}
		va, _ := onnx.Floats(ta)
		tb, ok := b[ta.GetName()]
		if !ok {
			t.Fatalf("the emulated run's model has no %q", ta.GetName())
		}
		vb, _ := onnx.Floats(tb)
		scale := 0.0
		for _, x := range va {
			scale = max(scale, math.Abs(float64(x)))
		}
		for i := range va {
			d := math.Abs(float64(va[i]) - float64(vb[i]))
			if d > 1e-4*scale {
				t.Fatalf("%s[%d] = %v on the emulated device, %v on the CPU (scale %v)", ta.GetName(), i, vb[i], va[i], scale)
			}
			if scale > 0 {
				worst = max(worst, d/scale)
			}
		}
		checked++
	}
	if checked < 100 {
		t.Fatalf("compared %d float tensors, want the whole model", checked)
	}
	// Per step: the batch in, plus the ops' own launch tables (shapes, strides, the loss's
	// gradient seed, Resize's interpolation matrices: 6500 bytes here, uploaded per launch
	// until scratch is reused) — a parameter round trip would be over 100 KB; out, the loss,
	// the squared gradient norm and the cross-entropy's label check (two int32s, forward and
	// backward): 24 bytes.
	in := (traffic["5"][0] - traffic["3"][0]) / 2
	out := (traffic["5"][1] - traffic["3"][1]) / 2
	batch := 4 * (2*3*32*32 + 2*32*32)
	if in < batch || in > batch+8192 {
		t.Errorf("a step copied %d bytes in, want the batch's %d and at most 8 KiB of launch tables", in, batch)
	}
	if pinned := (traffic["5"][2] - traffic["3"][2]) / 2; pinned != batch {
		t.Errorf("a step copied %d bytes through pinned staging, want the batch's %d", pinned, batch)
	}
	if out != 24 {
		t.Errorf("a step copied %d bytes out, want 24 (the loss, the squared gradient norm, two label checks)", out)
	}
	t.Logf("losses cpu %v, emulated %v; %d tensors, worst %.2g of scale; a step moved %d bytes in, %d out", cpu, dev, checked, worst, in, out)
}
