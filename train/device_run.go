package train

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/ops/device"
)

// devRun runs a task's steps on a device (today: the emulated one, --device emulated, a test
// device that proves the device layer end to end in CI). Outside RunAll everything stays on
// the host, so the optimizer, checkpoints, validation and write-back run unchanged: before
// each run the inputs (parameters, the batch) and the BatchNorm statistics are copied into
// device tensors kept per node, and after it the gradients and statistics come back and the
// host tensors are bound again. That round trip is the test device's price; on a GPU the
// parameters, optimizer state and statistics are to stay on the device (docs/design.md).
type devRun struct {
	dev   device.Device
	e     *device.Engine
	g     *G.ExprGraph
	nodes []*G.Node                 // inputs bound to host float32 tensors
	host  map[*G.Node]G.Value       // their host values, bound again after each run
	on    map[*G.Node]*tensor.Dense // their device copies, kept between runs
	bns   []*ops.BNState
	bnH   [][2]*tensor.Dense // host running statistics
	bnD   [][2]*tensor.Dense // device copies
	grads map[*G.Node][]float32
}

// newDevRun opens the device a --device value names: emulated, or cuda (GPU 0).
func newDevRun(g *G.ExprGraph, name string) (*devRun, error) {
	var dev device.Device = device.NewEmulated()
	if name == "cuda" {
		d, err := device.NewCUDA(0)
		if err != nil {
			return nil, err
		}
		dev = d
	}
	r := &devRun{dev: dev, e: device.NewEngine(dev), g: g, host: map[*G.Node]G.Value{}, on: map[*G.Node]*tensor.Dense{},
		grads: map[*G.Node][]float32{}}
	r.bns = ops.BNStates(g)
	return r, nil
}

// toDevice binds device copies of every host input value and moves the BN statistics.
func (r *devRun) toDevice() error {
	r.nodes = r.nodes[:0]
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
		if err := r.e.Dev.CopyIn(device.PtrOf(d), device.Bytes32(t.Data().([]float32)[:t.Shape().TotalSize()])); err != nil {
			return err
		}
		r.host[n] = t
		r.nodes = append(r.nodes, n)
		if err := G.Let(n, d); err != nil {
			return err
		}
	}
	if r.bnD == nil {
		for _, st := range r.bns {
			r.bnH = append(r.bnH, [2]*tensor.Dense{st.Mean, st.Var})
			r.bnD = append(r.bnD, [2]*tensor.Dense{r.e.New(st.Mean.Shape()...), r.e.New(st.Var.Shape()...)})
		}
	}
	for i, st := range r.bns {
		for j, h := range r.bnH[i] {
			if err := r.e.Dev.CopyIn(device.PtrOf(r.bnD[i][j]), device.Bytes32(h.Data().([]float32))); err != nil {
				return err
			}
		}
		st.Mean, st.Var = r.bnD[i][0], r.bnD[i][1]
	}
	return nil
}

// toHost copies the gradients of params and the BN statistics back and binds the host
// values again.
func (r *devRun) toHost(params []*paramRef) error {
	for _, p := range params {
		g, err := p.node.Grad()
		if err != nil {
			return err
		}
		d, ok := g.(*tensor.Dense)
		if !ok || device.Of(d) == nil {
			return fmt.Errorf("train: gradient of %q is not a device tensor", p.p.Name)
		}
		buf := r.grads[p.node]
		if len(buf) != d.Shape().TotalSize() {
			buf = make([]float32, d.Shape().TotalSize())
			r.grads[p.node] = buf
		}
		if err := r.e.Dev.CopyOut(device.Bytes32(buf), device.PtrOf(d)); err != nil {
			return err
		}
	}
	return r.restore()
}

// restore binds the host values again and brings the BN statistics back.
func (r *devRun) restore() error {
	for _, n := range r.nodes {
		if err := G.Let(n, r.host[n]); err != nil {
			return err
		}
	}
	for i, st := range r.bns {
		for j, h := range r.bnH[i] {
			if err := r.e.Dev.CopyOut(device.Bytes32(h.Data().([]float32)), device.PtrOf(r.bnD[i][j])); err != nil {
				return err
			}
		}
		st.Mean, st.Var = r.bnH[i][0], r.bnH[i][1]
	}
	return nil
}
