package train

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/ops/device"
)

// DeviceTask is implemented by tasks that keep state between steps beside the graph (a
// pretext method's momentum network, queues, monitors) and know whether that state can run
// with the passes on a device. OnDevice is called once, before the first step, with the
// --device value; an error (a method not yet tested there) stops the run as bad input.
type DeviceTask interface {
	OnDevice(device string) error
}

// ResidentTask is a DeviceTask whose state beside the graph may live on the device too (a
// pretext method's momentum network and queues): UseDevice is called once the device is
// open, before the first step. When it answers true, the online parameters stay on the
// device between steps from then on (the task reads them there, through Resident.Param);
// false, or a DeviceTask that is not a ResidentTask, gets the trained state copied back to
// the host after every step, where the task reads it.
//
// The task keeps its own host mirror current for Checkpoint and Outputs (it copies its
// device state out there); the engine has synced the online parameters before it calls
// either.
type ResidentTask interface {
	DeviceTask
	UseDevice(r Resident) (bool, error)
}

// Resident is a device run as a ResidentTask sees it.
type Resident interface {
	// Engine is the run's device engine.
	Engine() *device.Engine
	// Param is the device tensor that holds the current value of input node n of the
	// training graph (a parameter: as the last update left it), copying the host state in
	// first when it is newer (a fresh or resumed run).
	Param(n *G.Node) (*tensor.Dense, error)
	// Stats are the device tensors of BatchNorm state st's running mean and variance, current
	// (st is one of the training graph's).
	Stats(st *ops.BNState) ([2]*tensor.Dense, error)
}

// checkDeviceTask: a task with state beside the graph runs on a device only if it says it
// can (DeviceTask); the others refuse in one line.
func checkDeviceTask(task Task, dev string) error {
	if dt, ok := task.(DeviceTask); ok {
		if err := dt.OnDevice(dev); err != nil {
			return usageErrorf("%v", err)
		}
		return nil
	}
	if _, ok := task.(Monitorer); ok {
		return usageErrorf("--device %s runs train seg only for now (task %s keeps state the device layer does not move yet); use --device cpu", dev, task.Name())
	}
	return nil
}
