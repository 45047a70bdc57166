package experiment

import (
	"fmt"
	"io"

	"github.com/ssl4dp/ssl4dp/train/pretext"
)

// The device a grid trains on (Options.Device, experiment and demo's --device) goes to every
// cell's train seg and to the pre-training stages whose method runs on a device; the others
// (BYOL, classify stages) train on the CPU and say so. It is recorded in done.json but is not
// part of any folder key: the same grid run on another device reuses finished folders.

// trainsOn is the --device value the jobs get: "" for the CPU (no flag added).
func (o Options) trainsOn() string {
	if o.Device == "cpu" {
		return ""
	}
	return o.Device
}

// cellDevice is the --device flag for a cell (nothing for the CPU).
func (r *runner) cellDevice() []string {
	if d := r.o.trainsOn(); d != "" {
		return []string{"--device=" + d}
	}
	return nil
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
	return []string{"--device=" + d}
}

// recordedDevice is the device a job ran on, for done.json.
func recordedDevice(args []string) string {
	if d, ok := flagValue(args, "device"); ok {
		return d
	}
	return "cpu"
}
