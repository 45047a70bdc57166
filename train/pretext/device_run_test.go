//go:build cgo

package pretext

import (
	"context"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// runPretext runs train pretext with args and returns metrics.jsonl's training records.
func runPretext(t *testing.T, args ...string) ([]float64, []map[string]float64, error) {
	t.Helper()
	var f Flags
	given, err := train.ParseFlags(&f, "pretext", args)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Run(context.Background(), io.Discard, given); err != nil {
		return nil, nil, err
	}
	log, err := runlog.ReadFile(filepath.Join(f.Out, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var losses []float64
	var mons []map[string]float64
	for _, r := range log.Train {
		losses = append(losses, r.Loss)
		mons = append(mons, r.Monitors)
	}
	return losses, mons, nil
}

// TestPretextOnEmulatedDeviceMatchesCPU: train pretext --device emulated (the online passes
// on the emulated device inside the real training loop; the momentum network, its EMA and
// the queue on the host between passes; the monitors read from the device) takes the CPU's
// steps: each step's loss within 1e-4 relative (train seg's device tolerance) and the
// monitors the same, for every method deviceMethods enables.
//
// Time: 8–40 s a method (the emulator; SimSiam's and PixPro's 2048-wide heads are the slow
// ones), so by default it runs moco, plmoco and densecl (a queue and momentum network, a dense
// queue with the −1 ignore, a host-side match; about 27 s), under -short moco alone, and with
// SSL4DP_DEVICE_ALL=1 every enabled method (about 3 minutes).
func TestPretextOnEmulatedDeviceMatchesCPU(t *testing.T) {
	run := map[string]bool{"moco": true, "plmoco": true, "densecl": true}
	if testing.Short() {
		run = map[string]bool{"moco": true}
	}
	if os.Getenv("SSL4DP_DEVICE_ALL") == "1" {
		run = deviceMethods
	}
	for _, method := range Methods {
		if !deviceMethods[method] || !run[method] {
			continue
		}
		t.Run(method, func(t *testing.T) {
			got := map[string][]float64{}
			mons := map[string][]map[string]float64{}
			for _, dev := range []string{"cpu", "emulated"} {
				args := []string{"--method", method, "--scale", "cpu", "--encoder", "resnet18", "--width", "0.0625",
					"--size", "32", "--batch", "4", "--iters", "3", "--workers", "1",
					"--data", "synthetic:size=32,n=8,val=2,classes=3", "--device", dev, "--out", filepath.Join(t.TempDir(), dev)}
				switch method {
				case "moco", "edmoco":
					args = append(args, "--queue", "16", "--dim", "16")
				case "simclr":
					args = append(args, "--dim", "16")
				case "byol":
					// At the default lr the run is chaotic: one ulp anywhere gives 3% by the
					// third step on the CPU alone (TestBYOLSensitivity).
					args = append(args, "--dim", "16", "--lr", "1e-4")
				}
				var err error
				got[dev], mons[dev], err = runPretext(t, args...)
				if err != nil {
					t.Fatal(err)
				}
			}
			cpu, emu := got["cpu"], got["emulated"]
			if len(cpu) != 3 || len(emu) != 3 {
				t.Fatalf("steps logged: cpu %d, emulated %d, want 3", len(cpu), len(emu))
			}
			for i := range cpu {
				if math.Abs(emu[i]-cpu[i]) > 1e-4*math.Abs(cpu[i]) {
					t.Errorf("step %d: loss %v on the emulated device, %v on the CPU", i, emu[i], cpu[i])
				}
				for name, w := range mons["cpu"][i] {
					if g, ok := mons["emulated"][i][name]; !ok || math.Abs(g-w) > 1e-4*max(1, math.Abs(w)) {
						t.Errorf("step %d: monitor %s %v on the emulated device, %v on the CPU", i, name, g, w)
					}
				}
			}
			t.Logf("losses cpu %v, emulated %v; monitors at the last step %v", cpu, emu, mons["emulated"][2])
		})
	}
}

// TestPretextDeviceRefusesOtherMethods: a method not yet enabled on a device stops before
// training with one line that names the ones that run (exit 2: a usage error).
func TestPretextDeviceRefusesOtherMethods(t *testing.T) {
	for _, method := range Methods {
		if deviceMethods[method] {
			continue
		}
		_, _, err := runPretext(t, "--method", method, "--scale", "cpu", "--encoder", "resnet18", "--width", "0.0625",
			"--size", "32", "--batch", "4", "--iters", "1", "--data", "synthetic:size=32,n=8,val=2,classes=3",
			"--device", "emulated", "--out", filepath.Join(t.TempDir(), method))
		var ue *train.UsageError
		if !errors.As(err, &ue) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "does not run on a device yet") {
			t.Errorf("%s --device emulated: %v, want a one-line usage error", method, err)
		}
		return // one is enough: they all take the same path (OnDevice)
	}
	t.Skip("every method runs on a device: no refusal to test")
}
