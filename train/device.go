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
	Device string `name:"device" default:"cpu" enum:"cpu,cuda,emulated" help:"Where training runs: cpu, or cuda (an NVIDIA GPU through the driver's libcuda.so.1 and cuBLAS, loaded at run time; 'ssl4dp version' lists the GPUs it sees). cuda trains train seg and train pretext (every method), and bench train times their steps, and that path has not yet been run on a real GPU (scripts/gpu_check.sh checks it); elsewhere cuda checks for a GPU and stops with what it found. emulated is a test device (train seg, train pretext, bench train): the CUDA kernels run by the CPU emulator, slow, to prove the device layer."`
	TF32   bool   `name:"tf32" help:"With --device cuda: let cuBLAS use TF32 tensor cores for the GEMMs (10-bit mantissa products, fp32 sums; faster on Ampere and later, about 1e-3 relative error). Off by default: fp32 throughout. Any other device has no TF32 and refuses the flag."`
}

// checkTF32 refuses --tf32 off CUDA in one line (exit 2): the CPU and the emulated device
// compute in fp32 only, and a silent no-op would pass fp32 timings off as TF32 ones.
func (f DeviceFlag) checkTF32() error {
	if f.TF32 && f.Device != "cuda" {
		dev := f.Device
		if dev == "" {
			dev = "cpu"
		}
		return usageErrorf("--tf32: TF32 is a mode of CUDA's tensor cores; --device %s computes in fp32 only (drop --tf32, or use --device cuda)", dev)
	}
	return nil
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
func (f DeviceFlag) Check() error {
	if err := f.checkTF32(); err != nil {
		return err
	}
	return CheckDevice(f.Device)
}

// CheckDeviceLayer is Check for a command that runs on the device layer (train seg, pretext):
// emulated is accepted, and cuda once the driver sees a GPU (its one-line reason otherwise);
// for cuda it says on log that this path has not yet been run on a real GPU.
func (f DeviceFlag) CheckDeviceLayer(log io.Writer) error {
	if err := f.checkTF32(); err != nil {
		return err
	}
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
			"momentum and BatchNorm statistics stay on the GPU between steps; GEMMs in %s\n", info.Devices[0], info.VersionString(), map[bool]string{false: "fp32", true: "TF32 (--tf32)"}[f.TF32])
		return nil
	}
	return f.Check()
}
