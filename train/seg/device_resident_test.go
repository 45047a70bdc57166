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

// TestTrainSegResumeAcrossDevices: a run checkpointed on one device resumes on the other
// from the same files (model.onnx, optim.bin with the momentum buffers, state.json): three
// steps on the CPU then two on the emulated device, and three on the emulated device then
// two on the CPU, each give the losses of the same run on the CPU alone (three steps, resumed
// for two; 1e-4 relative) and its final weights (1e-4 of each tensor's largest magnitude).
func TestTrainSegResumeAcrossDevices(t *testing.T) {
	var ref string
	var want []float64
	for _, devs := range [][2]string{{"cpu", "cpu"}, {"cpu", "emulated"}, {"emulated", "cpu"}} {
		out := filepath.Join(t.TempDir(), devs[0]+"-"+devs[1])
		trainSeg(t, residentArgs(devs[0], out, "3")...)
		trainSeg(t, "--resume", "--out", out, "--iters", "5", "--device", devs[1])
		got := trainLosses(t, out)
		if len(got) != 5 {
			t.Fatalf("%s then %s: %d steps logged, want 5", devs[0], devs[1], len(got))
		}
		if ref == "" { // the CPU throughout: the reference (the schedule is --iters 3's for three steps)
			ref, want = out, got
			continue
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-4*math.Abs(want[i]) {
				t.Errorf("%s then %s: step %d loss %v, the CPU alone gives %v", devs[0], devs[1], i, got[i], want[i])
			}
		}
		if name, d := worstInit(t, filepath.Join(ref, ModelFile), filepath.Join(out, ModelFile)); d > 1e-4 {
			t.Errorf("%s then %s: %s is %.2g of its scale from the CPU's", devs[0], devs[1], name, d)
		}
	}
}

// trainLosses is the loss of each step of a run's metrics.jsonl, by step.
func trainLosses(t *testing.T, dir string) []float64 {
	t.Helper()
	log, err := runlog.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var l []float64
	for _, r := range log.Train {
		for len(l) <= r.Step {
			l = append(l, math.NaN())
		}
		l[r.Step] = r.Loss
	}
	return l
}

// worstInit is the float initializer of model b farthest from a's, relative to the largest
// magnitude in a's tensor, and that distance.
func worstInit(t *testing.T, a, b string) (string, float64) {
	t.Helper()
	ma := readModel(t, a)
	mb := onnx.Initializers(readModel(t, b).Graph)
	name, worst := "", 0.0
	for _, ta := range ma.Graph.Initializer {
		if !isFloat(ta) {
			continue
		}
		va, _ := onnx.Floats(ta)
		tb, ok := mb[ta.GetName()]
		if !ok {
			return ta.GetName() + " (missing)", math.Inf(1)
		}
		vb, _ := onnx.Floats(tb)
		scale := 0.0
		for _, x := range va {
			scale = max(scale, math.Abs(float64(x)))
		}
		for i := range va {
			if d := math.Abs(float64(va[i]) - float64(vb[i])); d > worst*scale && scale > 0 {
				name, worst = ta.GetName(), d/scale
			}
		}
	}
	return name, worst
}
