package train

import (
	"fmt"
	"io"
	"strings"

	"github.com/ssl4dp/ssl4dp/ops/cuda/driver"
)

// DeviceFlag is --device, shared by every command that trains (train seg, train pretext,
// bench train, experiment, demo).
type DeviceFlag struct {
	Device string `name:"device" default:"cpu" enum:"cpu,cuda,emulated" help:"Where training runs: cpu, or cuda (an NVIDIA GPU through the driver's libcuda.so.1 and cuBLAS, loaded at run time; 'ssl4dp version' lists the GPUs it sees). cuda trains train seg and train pretext (every method but byol), and bench train times train seg's step, so far, and that path has not yet been run on a real GPU (scripts/gpu_check.sh checks it); elsewhere cuda checks for a GPU and stops with what it found. emulated is a test device (train seg, train pretext, bench train's seg step): the CUDA kernels run by the CPU emulator, slow, to prove the device layer."`
}

// CheckDevice returns nil for the CPU. For cuda it returns the one-line reason it cannot be
// used (exit 2): no driver, a driver too old, no GPU (driver.UnavailableError) — or, on a
// machine with a GPU, that ssl4dp's CUDA device layer is not built yet. It never falls back
// to the CPU silently.
func CheckDevice(device string) error {
	switch device {
	case "", "cpu":
		return nil
	case "emulated":
		return usageErrorf("--device emulated: only train seg and train pretext run on the emulated test device so far (and bench train times train seg's step there); use --device cpu")
	case "cuda":
	default:
		return usageErrorf("--device %q: want cpu, cuda or emulated", device)
	}
	info, err := driver.Probe()
	if err != nil {
		return err
	}
	gpus := make([]string, len(info.Devices))
	for i, d := range info.Devices {
		gpus[i] = d.String()
	}
	return &UsageError{Msg: fmt.Sprintf("--device cuda: the driver (CUDA %s) sees %s, but this command does not train on CUDA yet (only train seg and train pretext do; docs/design.md, CUDA); use --device cpu",
		info.VersionString(), strings.Join(gpus, "; "))}
}

// Check is CheckDevice of the flag's value.
func (f DeviceFlag) Check() error { return CheckDevice(f.Device) }

// CheckDeviceLayer is Check for a command that runs on the device layer (train seg, pretext):
// emulated is accepted, and cuda once the driver sees a GPU (its one-line reason otherwise);
// for cuda it says on log that this path has not yet been run on a real GPU.
func (f DeviceFlag) CheckDeviceLayer(log io.Writer) error {
	switch f.Device {
	case "emulated":
		return nil
	case "cuda":
		info, err := driver.Probe()
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "device: GPU %s (CUDA %s). The device layer is proven on the emulated device in CI; "+
			"this CUDA path has not yet been run on a real GPU (scripts/gpu_check.sh checks it); the parameters, "+
			"momentum and BatchNorm statistics stay on the GPU between steps\n", info.Devices[0], info.VersionString())
		return nil
	}
	return f.Check()
}
