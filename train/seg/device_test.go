//go:build cgo

package seg

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// TestTrainSegEmulatedDeviceMatchesCPU: train seg --device emulated (the CUDA kernels run by
// the emulator, through the device layer, inside the real training loop: batches copied in,
// gradients and BatchNorm statistics out, SGD, validation, checkpoint and model write-back)
// takes the same steps as --device cpu: every step's loss within 1e-4 relative, and the
// final validation's mIoU the same.
func TestTrainSegEmulatedDeviceMatchesCPU(t *testing.T) {
	losses := map[string][]float64{}
	miou := map[string]float64{}
	for _, dev := range []string{"cpu", "emulated"} {
		out := filepath.Join(t.TempDir(), dev)
		trainSeg(t, "--encoder", "resnet18", "--width", "0.0625", "--data", "synthetic:size=32,n=8,val=2,classes=3",
			"--crop", "32", "--batch", "2", "--iters", "3", "--device", dev, "--out", out)
		log, err := runlog.ReadFile(filepath.Join(out, "metrics.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range log.Train {
			losses[dev] = append(losses[dev], r.Loss)
		}
		if len(log.Val) > 0 {
			miou[dev] = log.Val[len(log.Val)-1].Scores.MIoU
		}
	}
	cpu, emu := losses["cpu"], losses["emulated"]
	if len(cpu) != 3 || len(emu) != 3 {
		t.Fatalf("steps logged: cpu %d, emulated %d, want 3", len(cpu), len(emu))
	}
	for i := range cpu {
		if math.Abs(emu[i]-cpu[i]) > 1e-4*math.Abs(cpu[i]) {
			t.Errorf("step %d: loss %v on the emulated device, %v on the CPU", i, emu[i], cpu[i])
		}
	}
	if math.Abs(miou["emulated"]-miou["cpu"]) > 1e-6 {
		t.Errorf("final mIoU %v on the emulated device, %v on the CPU", miou["emulated"], miou["cpu"])
	}
	t.Logf("losses cpu %v, emulated %v; mIoU %v, %v", cpu, emu, miou["cpu"], miou["emulated"])
}
