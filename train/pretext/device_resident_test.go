//go:build cgo

package pretext

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops/device"
	"github.com/ssl4dp/ssl4dp/train"
)

// residentArgs are train pretext's arguments for a small MoCo run (the CPU-scale recipe at
// ResNet-18/16, 32-pixel views, batch 4, a queue of 16 keys of 16 values).
func residentArgs(method, dev, out, iters string) []string {
	args := []string{"--method", method, "--scale", "cpu", "--encoder", "resnet18", "--width", "0.0625",
		"--size", "32", "--batch", "4", "--iters", iters, "--workers", "1",
		"--data", "synthetic:size=32,n=8,val=2,classes=3", "--device", dev, "--out", out}
	if method == "moco" || method == "edmoco" {
		args = append(args, "--queue", "16", "--dim", "16")
	}
	return args
}

// TestPretextEmulatedResident: MoCo on the emulated device keeps its whole state there — the
// online parameters, the momentum network (its EMA by axpby, its forward pass on the device
// engine) and the queue — so a step moves its batch in (view 1 through pinned staging,
// view 2 into the momentum network's input), the keys in and out (the loss's key input and
// the enqueued rows, the momentum network's output) and scalars and the monitors' logits
// out: half the difference between a 5-step and a 3-step run's copies, against a parameter
// round trip (the online and momentum networks' parameters, in and out). The losses are the
// CPU's (1e-4 relative) and so is the final checkpoint's key network (key.onnx, the
// momentum network copied back).
func TestPretextEmulatedResident(t *testing.T) {
	var emu *device.Emulated
	train.DeviceOpened = func(d device.Device) { emu, _ = d.(*device.Emulated) }
	defer func() { train.DeviceOpened = nil }()
	losses := map[string][]float64{}
	dirs := map[string]string{}
	traffic := map[string][3]int{}
	for _, run := range []struct{ dev, iters string }{{"cpu", "5"}, {"emulated", "5"}, {"emulated", "3"}} {
		out := filepath.Join(t.TempDir(), run.dev+run.iters)
		emu = nil
		l, _, err := runPretext(t, residentArgs("moco", run.dev, out, run.iters)...)
		if err != nil {
			t.Fatal(err)
		}
		if run.dev == "emulated" {
			if emu == nil {
				t.Fatal("the emulated run opened no emulated device")
			}
			traffic[run.iters] = [3]int{emu.BytesIn, emu.BytesOut, emu.PinnedIn}
		}
		if run.iters == "5" {
			losses[run.dev], dirs[run.dev] = l, out
		}
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
	params := 0
	for _, f := range []string{ModelFile, KeyFile} {
		name, worst, n := worstInitIn(t, lastCheckpointFile(t, dirs["cpu"], f), lastCheckpointFile(t, dirs["emulated"], f))
		if worst > 1e-4 {
			t.Errorf("%s: %s is %.2g of its scale from the CPU's", f, name, worst)
		}
		params += n
	}
	in := (traffic["5"][0] - traffic["3"][0]) / 2
	out := (traffic["5"][1] - traffic["3"][1]) / 2
	pinned := (traffic["5"][2] - traffic["3"][2]) / 2
	view := 4 * 4 * 3 * 32 * 32
	keys := 4 * 4 * 16
	logits := 4 * 4 * (1 + 16)
	// In: view 1 (staged) and view 2 (the momentum network's input), the keys twice (the
	// loss's input and the enqueue), the ops' launch tables (bound 16 KiB for the two
	// networks); out: the keys, the logits the monitors read, the loss, the squared norm
	// and a few label checks.
	if pinned != view {
		t.Errorf("a step copied %d bytes through pinned staging, want view 1's %d", pinned, view)
	}
	if in < 2*view+2*keys || in > 2*view+2*keys+16384 {
		t.Errorf("a step copied %d bytes in, want the two views' %d, the keys' %d twice and at most 16 KiB of launch tables", in, 2*view, keys)
	}
	if out < keys+logits || out > keys+logits+64 {
		t.Errorf("a step copied %d bytes out, want the keys' %d, the logits' %d and a few scalars", out, keys, logits)
	}
	if round := 2 * 4 * params; in >= round/4 {
		t.Errorf("a step copied %d bytes in; a parameter round trip is %d", in, round)
	}
	t.Logf("losses cpu %v, emulated %v; a step moved %d bytes in (%d staged), %d out; a parameter round trip would be %d", cpu, dev, in, pinned, out, 2*4*params)
}

// TestPretextResumeAcrossDevices: MoCo checkpointed after 3 steps on one device and resumed
// for 2 on the other (CPU → emulated, emulated → CPU) takes the CPU-alone run's steps (1e-4
// relative) and ends with its online and key networks and queue: the checkpoints are the
// CPU's files whichever device wrote them (the momentum network and the queue copied out of
// the device, and in again after the restore).
func TestPretextResumeAcrossDevices(t *testing.T) {
	var ref string
	var want []float64
	for _, devs := range [][2]string{{"cpu", "cpu"}, {"cpu", "emulated"}, {"emulated", "cpu"}} {
		out := filepath.Join(t.TempDir(), devs[0]+"-"+devs[1])
		if _, _, err := runPretext(t, residentArgs("moco", devs[0], out, "3")...); err != nil {
			t.Fatal(err)
		}
		got, _, err := runPretext(t, append(residentArgs("moco", devs[1], out, "5"), "--resume")...)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 5 {
			t.Fatalf("%s then %s: %d steps logged, want 5", devs[0], devs[1], len(got))
		}
		if ref == "" {
			ref, want = out, got
			continue
		}
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-4*math.Abs(want[i]) {
				t.Errorf("%s then %s: step %d loss %v, the CPU alone gives %v", devs[0], devs[1], i, got[i], want[i])
			}
		}
		for _, f := range []string{ModelFile, KeyFile} {
			if name, d, _ := worstInitIn(t, lastCheckpointFile(t, ref, f), lastCheckpointFile(t, out, f)); d > 1e-4 {
				t.Errorf("%s then %s: %s: %s is %.2g of its scale from the CPU's", devs[0], devs[1], f, name, d)
			}
		}
		a, b := readQueue(t, lastCheckpointFile(t, ref, QueueFile)), readQueue(t, lastCheckpointFile(t, out, QueueFile))
		if a.Ptr != b.Ptr {
			t.Errorf("%s then %s: queue pointer %d, the CPU's %d", devs[0], devs[1], b.Ptr, a.Ptr)
		}
		for i := range a.Data {
			if math.Abs(float64(a.Data[i]-b.Data[i])) > 1e-4 {
				t.Fatalf("%s then %s: queue value %d is %v, the CPU's %v", devs[0], devs[1], i, b.Data[i], a.Data[i])
			}
		}
	}
}

// lastCheckpointFile is file in the run's newest checkpoint.
func lastCheckpointFile(t *testing.T, run, file string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(run, "*", "*", file))
	if err != nil || len(m) == 0 {
		t.Fatalf("no checkpoint of %s holds %s (%v)", run, file, err)
	}
	return m[len(m)-1] // zero-padded step numbers: the last is the newest
}

// worstInitIn is the float initializer of model file b farthest from a's, relative to the
// largest magnitude of a's tensor, that distance, and how many float values a holds.
func worstInitIn(t *testing.T, a, b string) (string, float64, int) {
	t.Helper()
	read := func(p string) map[string][]float32 {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		m := decode(t, data, p)
		out := map[string][]float32{}
		for _, ti := range m.Graph.Initializer {
			if v, err := onnx.Floats(ti); err == nil && ti.GetDataType() == 1 {
				out[ti.GetName()] = v
			}
		}
		return out
	}
	ma, mb := read(a), read(b)
	name, worst, n := "", 0.0, 0
	for k, va := range ma {
		vb, ok := mb[k]
		if !ok || len(vb) != len(va) {
			return k + " (missing)", math.Inf(1), n
		}
		n += len(va)
		scale := 0.0
		for _, x := range va {
			scale = max(scale, math.Abs(float64(x)))
		}
		for i := range va {
			if d := math.Abs(float64(va[i]) - float64(vb[i])); d > worst*scale && scale > 0 {
				name, worst = k, d/scale
			}
		}
	}
	if n == 0 {
		t.Fatalf("%s holds no float initializers", a)
	}
	return name, worst, n
}

// readQueue reads a saved queue of any size.
func readQueue(t *testing.T, p string) *Queue {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	q := &Queue{}
	head := len(queueMagic)
	if len(data) < head+12 {
		t.Fatalf("%s: too short for a queue", p)
	}
	u := func(i int) int {
		return int(uint32(data[head+4*i]) | uint32(data[head+4*i+1])<<8 | uint32(data[head+4*i+2])<<16 | uint32(data[head+4*i+3])<<24)
	}
	q.K, q.D = u(0), u(1)
	q.Data = make([]float32, q.K*q.D)
	if err := q.UnmarshalBinary(data); err != nil {
		t.Fatal(err)
	}
	return q
}
