package train

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/train/optim"
)

// openDevice opens the device name names for graph g and builds its machine: the machine
// gives every value it holds at construction its engine, so the inputs are device tensors
// while it is built; the host values are bound again after, and the first pass copies them
// in (after a resume has loaded its checkpoint into them).
func openDevice(g *G.ExprGraph, name string, tf32 bool, params []*paramRef) (*devRun, G.VM, error) {
	r, err := newDevRun(g, name, tf32, params)
	if err != nil {
		return nil, nil, err
	}
	if err := r.toDevice(nil); err != nil {
		return nil, nil, fmt.Errorf("train: --device %s: %w", name, err)
	}
	vm := G.NewTapeMachine(g, G.WithEngine(r.e))
	if err := r.unbind(); err != nil {
		vm.Close()
		return nil, nil, fmt.Errorf("train: --device %s: %w", name, err)
	}
	r.upload = true
	return r, vm, nil
}

// DeviceSteps runs training steps of a differentiated graph on a device with the training
// state resident, as train seg --device does (the parameters, momentum buffers and
// BatchNorm statistics stay there; a step moves its batch in and scalars out). bench train
// --device times it.
type DeviceSteps struct {
	r   *devRun
	vm  G.VM
	opt *optim.SGD
}

// NewDeviceSteps opens device ("emulated" or "cuda"; tf32: cuBLAS's TF32 mode on cuda) for
// g, whose loss has been differentiated with respect to nodes; params are the optimizer's
// views of those nodes' values, in the same order, and opt the optimizer over them. task,
// when it is a DeviceTask (a pretext method), is readied for the device as the training
// engine does it: OnDevice, then UseDevice when it is a ResidentTask; a task that reads the
// trained state on the host gets it back after every Update.
func NewDeviceSteps(task any, g *G.ExprGraph, device string, tf32 bool, nodes []*G.Node, params []*optim.Param, opt *optim.SGD) (*DeviceSteps, error) {
	if len(nodes) != len(params) {
		return nil, fmt.Errorf("train: %d parameter nodes, %d optimizer parameters", len(nodes), len(params))
	}
	refs := make([]*paramRef, len(nodes))
	for i := range nodes {
		refs[i] = &paramRef{node: nodes[i], p: params[i]}
	}
	dt, isDT := task.(DeviceTask)
	if isDT {
		if err := dt.OnDevice(device); err != nil {
			return nil, usageErrorf("%v", err)
		}
	}
	r, vm, err := openDevice(g, device, tf32, refs)
	if err != nil {
		return nil, err
	}
	r.syncEachStep = isDT
	if rt, ok := task.(ResidentTask); ok {
		resident, err := rt.UseDevice(r)
		if err != nil {
			vm.Close()
			return nil, fmt.Errorf("train: --device %s: %w", device, err)
		}
		r.syncEachStep = !resident
	}
	return &DeviceSteps{r: r, vm: vm, opt: opt}, nil
}

// Device names the device ("emulated", "cuda").
func (d *DeviceSteps) Device() string { return d.r.dev.Name() }

// Run is the forward and backward pass of the batch the graph's input nodes hold now.
func (d *DeviceSteps) Run() error {
	d.vm.Reset()
	if err := d.r.toDevice(d.opt); err != nil {
		return fmt.Errorf("train: --device %s: %w", d.Device(), err)
	}
	return d.vm.RunAll()
}

// Update is the SGD step at lr on the device; a gradient with NaN or ±Inf is an error naming
// the parameter.
func (d *DeviceSteps) Update(lr float64) error {
	bad, err := d.r.sgd.gradNorm(d.r)
	if err != nil {
		return fmt.Errorf("train: --device %s: gradient norm: %w", d.Device(), err)
	}
	if bad != "" {
		return fmt.Errorf("train: --device %s: the gradient of %q holds NaN or Inf values", d.Device(), bad)
	}
	if err := d.r.sgd.step(d.r, d.opt, lr); err != nil {
		return err
	}
	if d.r.syncEachStep {
		return d.r.syncHost(d.opt)
	}
	return nil
}

// SyncHost copies the trained state back into the host tensors and binds them again.
func (d *DeviceSteps) SyncHost() error { return d.r.syncHost(d.opt) }

// Close releases the machine.
func (d *DeviceSteps) Close() { d.vm.Close() }
