package pretext

// A method on a device (train pretext --device emulated|cuda). The first step, as train
// seg's: the engine (train/device_run.go) copies the online network's inputs into device
// tensors for each pass and binds the host values again after it, so everything between
// passes — the optimizer, the momentum network's EMA update and forward pass, the queues —
// runs on the host as on the CPU, and the monitors copy the outputs they read out of the
// device (nodeValues). What a device run changes here: the key pass runs inside Bind, before
// the pass, instead of beside it, because it reads the online weights, which the engine
// rebinds to their device copies while the pass runs. The momentum network on the device
// (its forward pass, the EMA as an axpby kernel, the queue resident) comes with the
// parameters staying on the device between steps.

// deviceMethods are the methods whose device runs are tested against the CPU
// (TestPretextOnEmulatedDeviceMatchesCPU); the others refuse a device. All eleven: BYOL's
// small CPU-scale run (lr 9.4e-4, batch 4) is chaotic on the CPU alone — one weight moved by
// one ulp gives the same 3% drift at the third step as the device's summation order
// (TestBYOLSensitivity) — so its device test runs at lr 1e-4, where both agree to 1e-6.
var deviceMethods = map[string]bool{"moco": true, "simclr": true, "byol": true, "simsiam": true, "plr": true, "edmoco": true,
	"plmoco": true, "pledmoco": true, "densecl": true, "pixpro": true, "cp2": true}

// RunsOnDevice reports whether method trains with --device emulated or cuda.
func RunsOnDevice(method string) bool { return deviceMethods[method] }

// OnDevice prepares the method for running its passes on device dev (the --device value):
// key passes in place from now on. A method not yet tested on a device refuses with an
// error that names the ones that run.
func (b *base) OnDevice(dev string) error {
	if !deviceMethods[b.method] {
		return errorf("--device %s: method %s does not run on a device yet (%s do); use --device cpu", dev, b.method, deviceMethodList())
	}
	b.inlineKeys = true
	return nil
}

func deviceMethodList() string {
	s := ""
	for _, m := range Methods {
		if deviceMethods[m] {
			if s != "" {
				s += ", "
			}
			s += m
		}
	}
	return s
}

// keyPassOf starts the momentum network's pass: beside the online pass on the CPU, in place
// on a device (OnDevice).
func (b *base) keyPassOf(f func() ([][]float32, error)) *keyPass {
	if !b.inlineKeys {
		return startKeyPass(f)
	}
	p := &keyPass{done: make(chan struct{})}
	p.outs, p.err = f()
	close(p.done)
	return p
}
