package train

// DeviceTask is implemented by tasks that keep state between steps beside the graph (a
// pretext method's momentum network, queues, monitors) and know whether that state can run
// with the passes on a device. OnDevice is called once, before the first step, with the
// --device value; an error (a method not yet tested there) stops the run as bad input.
type DeviceTask interface {
	OnDevice(device string) error
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
