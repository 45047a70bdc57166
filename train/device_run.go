package train

import (
	"fmt"
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/ops/device"
)

// devRun keeps a task's training state on a device (--device emulated, the CI device, or
// cuda) between steps: the parameters, their momentum buffers and the BatchNorm running
// statistics live there, the SGD update runs there (device_sgd.go), and a step moves only
// its batch in and its scalars (the loss, its parts, the squared gradient norm) out. The
// host tensors the task owns are the mirror the rest of the run reads — checkpoints,
// validation, write-back, the outputs — and syncHost brings them up to date (and binds them
// again) before any of those; upload marks the host as newer (a fresh run, a resume) so the
// next pass copies it in first.
type devRun struct {
	dev       device.Device
	e         *device.Engine
	g         *G.ExprGraph
	params    []*paramRef
	isPar     map[*G.Node]bool
	nodes     []*G.Node                 // parameter nodes bound to their device copies
	host      map[*G.Node]*tensor.Dense // the host values of the inputs (parameters and batch)
	on        map[*G.Node]*tensor.Dense // their device copies, kept between runs
	bns       []*ops.BNState
	bnH       [][2]*tensor.Dense // host running statistics
	bnD       [][2]*tensor.Dense // device copies
	sgd       devSGD
	stage     map[*G.Node]*[2]device.Pinned // each batch input's two stagings
	turn      int                           // which of the two this pass fills
	upload    bool                          // the host state is newer: copy it in before the next pass
	uploadOpt bool                          // the host momentum buffers are newer (copied in with the optimizer)
	bound     bool                          // the parameter nodes and BN states hold the device tensors
	// syncEachStep: the task reads the online weights on the host between passes (a
	// DeviceTask that is not a ResidentTask), so syncHost runs after every step.
	syncEachStep bool
}

// DeviceOpened, when set, is called with each device a run opens: tests read the emulated
// device's counters (launches, bytes copied) through it. Nil in every real run.
var DeviceOpened func(device.Device)

// newDevRun opens the device a --device value names: emulated, or cuda (GPU 0).
func newDevRun(g *G.ExprGraph, name string, tf32 bool, params []*paramRef) (*devRun, error) {
	var dev device.Device = device.NewEmulated()
	if name == "cuda" {
		d, err := device.NewCUDA(0)
		if err != nil {
			return nil, err
		}
		if err := d.SetTF32(tf32); err != nil {
			d.Close()
			return nil, err
		}
		dev = d
	} else if tf32 {
		return nil, fmt.Errorf("train: --tf32: the %s device computes in fp32 only", name)
	}
	if DeviceOpened != nil {
		DeviceOpened(dev)
	}
	r := &devRun{dev: dev, e: device.NewEngine(dev), g: g, params: params, isPar: map[*G.Node]bool{},
		host: map[*G.Node]*tensor.Dense{}, on: map[*G.Node]*tensor.Dense{}, upload: true,
		stage: map[*G.Node]*[2]device.Pinned{}}
	for _, p := range params {
		r.isPar[p.node] = true
	}
	r.bns = ops.BNStates(g)
	for _, st := range r.bns {
		r.bnH = append(r.bnH, [2]*tensor.Dense{st.Mean, st.Var})
		r.bnD = append(r.bnD, [2]*tensor.Dense{r.e.New(st.Mean.Shape()...), r.e.New(st.Var.Shape()...)})
	}
	return r, nil
}

// toDevice binds the device tensors before a pass: every input bound to a host float32
// tensor gets its device copy — the batch every time, through pinned staging (stageIn), a
// parameter's copy holding what ensureResident put there — and the BN states their device
// statistics.
func (r *devRun) toDevice(opt momentumBuffers) error {
	if err := r.ensureResident(opt); err != nil {
		return err
	}
	r.turn ^= 1
	for _, n := range r.g.AllNodes() {
		if n.Op() != nil || n.Value() == nil {
			continue
		}
		t, ok := n.Value().(*tensor.Dense)
		if !ok || t.Dtype() != tensor.Float32 || device.Of(t) != nil {
			continue
		}
		d := r.on[n]
		if d == nil || !d.Shape().Eq(t.Shape()) {
			d = r.e.New(t.Shape().Clone()...)
			r.on[n] = d
		}
		if !r.isPar[n] {
			if err := r.stageIn(n, d, device.Bytes32(t.Data().([]float32)[:t.Shape().TotalSize()])); err != nil {
				return err
			}
		}
		r.host[n] = t
		if r.isPar[n] {
			r.nodes = append(r.nodes, n)
		}
		if err := G.Let(n, d); err != nil {
			return err
		}
	}
	for i, st := range r.bns {
		st.Mean, st.Var = r.bnD[i][0], r.bnD[i][1]
	}
	r.bound = true
	return nil
}

// ensureResident copies the host state in when it is newer (upload: a fresh run, a resume):
// the parameters and BN statistics, and, once opt is given, the momentum buffers. The
// parameter nodes are not bound then (upload is set only while they hold host values).
func (r *devRun) ensureResident(opt momentumBuffers) error {
	if r.upload {
		for _, p := range r.params {
			t, ok := p.node.Value().(*tensor.Dense)
			if !ok || device.Of(t) != nil {
				return fmt.Errorf("parameter %q does not hold a host tensor to copy in", p.p.Name)
			}
			d := r.on[p.node]
			if d == nil || !d.Shape().Eq(t.Shape()) {
				d = r.e.New(t.Shape().Clone()...)
				r.on[p.node] = d
			}
			if err := r.e.Dev.CopyIn(device.PtrOf(d), device.Bytes32(t.Data().([]float32)[:t.Shape().TotalSize()])); err != nil {
				return err
			}
		}
		for i := range r.bns {
			for j, h := range r.bnH[i] {
				if err := r.e.Dev.CopyIn(device.PtrOf(r.bnD[i][j]), device.Bytes32(h.Data().([]float32))); err != nil {
					return err
				}
			}
		}
		r.upload, r.uploadOpt = false, true
	}
	if r.uploadOpt && opt != nil {
		if err := r.sgd.load(r, opt); err != nil {
			return err
		}
		r.uploadOpt = false
	}
	return nil
}

// Engine is the run's device engine (train.Resident).
func (r *devRun) Engine() *device.Engine { return r.e }

// Stats are the device copies of BN state st's running statistics, current (train.Resident).
func (r *devRun) Stats(st *ops.BNState) ([2]*tensor.Dense, error) {
	if err := r.ensureResident(nil); err != nil {
		return [2]*tensor.Dense{}, err
	}
	for i, s := range r.bns {
		if s == st {
			return r.bnD[i], nil
		}
	}
	return [2]*tensor.Dense{}, fmt.Errorf("train: a BatchNorm state that is not the training graph's")
}

// Param is the device copy of input node n, current (train.Resident): a parameter as the
// last update left it, the host state copied in first when it is newer.
func (r *devRun) Param(n *G.Node) (*tensor.Dense, error) {
	if err := r.ensureResident(nil); err != nil {
		return nil, err
	}
	d := r.on[n]
	if d == nil {
		return nil, fmt.Errorf("train: node %s has no device copy (not an input of the training graph)", n.Name())
	}
	return d, nil
}

// stageIn copies a batch input into this pass's staging of n and queues its copy to d. The
// other staging's copy (the last pass's) has run: the pass waited for its loss. With the
// two, the host may fill one while the device still copies the other.
func (r *devRun) stageIn(n *G.Node, d *tensor.Dense, src []byte) error {
	st := r.stage[n]
	if st == nil {
		st = &[2]device.Pinned{}
		r.stage[n] = st
	}
	p := st[r.turn]
	if p == nil || len(p.Bytes()) < len(src) {
		if p != nil {
			if err := r.dev.FreePinned(p); err != nil {
				return err
			}
		}
		var err error
		if p, err = r.dev.AllocPinned(len(src)); err != nil {
			return err
		}
		st[r.turn] = p
	}
	copy(p.Bytes(), src)
	return r.dev.CopyInPinned(device.PtrOf(d), p, len(src))
}

// momentumBuffers is the optimizer's host view of its momentum buffers (optim.SGD.Buffer).
type momentumBuffers interface{ Buffer(i int) []float32 }

// syncHost copies the device's parameters, BN statistics and momentum buffers into the host
// tensors and binds those again, so that what reads the host (a checkpoint, validation,
// write-back, the outputs) sees the trained state. It does nothing when the host is current.
func (r *devRun) syncHost(opt momentumBuffers) error {
	if !r.bound {
		return nil
	}
	for _, n := range r.nodes {
		h := r.host[n]
		if err := r.e.Dev.CopyOut(device.Bytes32(h.Data().([]float32)[:h.Shape().TotalSize()]), device.PtrOf(r.on[n])); err != nil {
			return err
		}
	}
	for i := range r.bns {
		for j, h := range r.bnH[i] {
			if err := r.e.Dev.CopyOut(device.Bytes32(h.Data().([]float32)), device.PtrOf(r.bnD[i][j])); err != nil {
				return err
			}
		}
	}
	if opt != nil {
		if err := r.sgd.store(r, opt); err != nil {
			return err
		}
	}
	return r.unbind()
}

// unbind binds the host values again without copying (the device keeps its copies).
func (r *devRun) unbind() error {
	for _, n := range r.nodes {
		if err := G.Let(n, r.host[n]); err != nil {
			return err
		}
	}
	r.nodes = r.nodes[:0]
	for i, st := range r.bns {
		st.Mean, st.Var = r.bnH[i][0], r.bnH[i][1]
	}
	r.bound = false
	return nil
}

// gradPtr is the device address of parameter p's gradient of the last pass (Gorgonia may
// hand out a new gradient tensor on any run, so it is read again every step).
func gradPtr(p *paramRef) (device.Ptr, error) {
	g, err := p.node.Grad()
	if err != nil {
		return 0, err
	}
	d, ok := g.(*tensor.Dense)
	if !ok || device.Of(d) == nil {
		return 0, fmt.Errorf("train: gradient of %q is not a device tensor", p.p.Name)
	}
	if d.Shape().TotalSize() != len(p.p.Value) {
		return 0, fmt.Errorf("train: gradient of %q has %d values, want %d", p.p.Name, d.Shape().TotalSize(), len(p.p.Value))
	}
	return device.PtrOf(d), nil
}

// finite reports whether a squared norm is a number (NaN and ±Inf are not).
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }
