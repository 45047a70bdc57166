package experiment

import (
	"fmt"
	"io"

	"github.com/ssl4dp/ssl4dp/train/pretext"
)

// The device a grid trains on (Options.Device, experiment and demo's --device) goes to every
// cell's train seg and to the pre-training stages whose method runs on a device (every
// pretext method; classify stages train on the CPU and say so), --tf32 with it. It is recorded in done.json but is not
// part of any folder key: the same grid run on another device reuses finished folders.

// trainsOn is the --device value the jobs get: "" for the CPU (no flag added).
func (o Options) trainsOn() string {
	if o.Device == "cpu" {
		return ""
	}
	return o.Device
}

// cellDevice is the --device flag for a cell (nothing for the CPU), and --tf32 with it.
func (r *runner) cellDevice() []string { return r.o.deviceArgs() }

// deviceArgs are the device flags a job gets: --device=X off the CPU, --tf32 where set.
func (o Options) deviceArgs() []string {
	d := o.trainsOn()
	if d == "" {
		return nil
	}
	args := []string{"--device=" + d}
	if o.TF32 {
		args = append(args, "--tf32")
	}
	return args
}

// DeviceArgs are the flags that give an experiment's jobs the device (--device=X, --tf32):
// nothing for the CPU. A Slurm job's command line carries them (SlurmOptions.DeviceArgs).
func DeviceArgs(device string, tf32 bool) []string {
	return Options{Device: device, TF32: tf32}.deviceArgs()
}

// stageDevice is the --device flag for a stage of method, or nothing (with a note on log)
// where the method does not run on a device.
func (r *runner) stageDevice(log io.Writer, method string) []string {
	d := r.o.trainsOn()
	if d == "" {
		return nil
	}
	if method == ClassifyMethod || !pretext.RunsOnDevice(method) {
		fmt.Fprintf(log, "%s does not run on a device yet: this stage trains on the CPU\n", method)
		return nil
	}
	return r.o.deviceArgs()
}

// recordedDevice is the device a job ran on, for done.json.
func recordedDevice(args []string) string {
	if d, ok := flagValue(args, "device"); ok {
		return d
	}
	return "cpu"
}
