package pretext

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/ops/device"
	"github.com/ssl4dp/ssl4dp/train"
)

// A method's state beside the graph on the device (train.ResidentTask): the momentum
// network's parameters and BatchNorm statistics live in device tensors, its EMA update is
// elementwise.cu's axpby over them and the online network's resident parameters
// (train.Resident.Param), and its forward pass runs on the device engine; the queues are
// device tensors bound to their input nodes, the enqueued rows copied in. What still crosses
// per step, besides the batch: the momentum network's outputs (n keys of D floats out; the
// methods' post-processing — normalisation, the key shuffle's undoing, PLMoCo's and
// DenseCL's matching — runs on the host as on the CPU) and the keys back in (the loss's
// key input and the enqueued rows). Never a parameter.
//
// The host keeps a mirror the checkpoints read: the queues' host rows are updated with
// every enqueue, and the momentum network's values are copied out before a checkpoint
// (keyNet.onHost) and in again when a restore changed them.

// residentMethods keep their state on the device in a device run: every method (BYOL, SimSiam
// and PixPro merge their twin passes' BatchNorm statistics there too, by bn_merge).
var residentMethods = map[string]bool{"moco": true, "edmoco": true, "plmoco": true, "pledmoco": true,
	"densecl": true, "cp2": true, "simclr": true, "plr": true, "simsiam": true, "pixpro": true, "byol": true}

// UseDevice makes the method's state resident on run r's device (train.ResidentTask); false
// for the methods that read the online state on the host between steps.
func (b *base) UseDevice(r train.Resident) (bool, error) {
	if !residentMethods[b.method] {
		return false, nil
	}
	b.res = r
	for _, mn := range b.moms {
		mn.res = r
	}
	return true, nil
}

// bindQueue binds queue q to input node n: its device tensor in a resident run, else its
// host rows.
func (b *base) bindQueue(n *G.Node, q *Queue) error {
	if b.res == nil {
		return bind(n, q.Data)
	}
	t, err := q.onDevice(b.res.Engine())
	if err != nil {
		return err
	}
	return G.Let(n, t)
}

// queueDev is a queue's device copy.
type queueDev struct {
	e     *device.Engine
	t     *tensor.Dense // [K, D]
	stale bool          // the host rows are newer (a restore): copy them in before use
}

// onDevice is the queue's device tensor, current.
func (q *Queue) onDevice(e *device.Engine) (*tensor.Dense, error) {
	if q.dev == nil {
		q.dev = &queueDev{e: e, t: e.New(q.K, q.D), stale: true}
	}
	if q.dev.stale {
		if err := e.Dev.CopyIn(device.PtrOf(q.dev.t), device.Bytes32(q.Data)); err != nil {
			return nil, errorf("queue: %w", err)
		}
		q.dev.stale = false
	}
	return q.dev.t, nil
}

// enqueueDevice copies rows, written at row start of the host queue, into the device copy
// as well: in runs of contiguous rows, wrapping around K as Enqueue does.
func (q *Queue) enqueueDevice(rows []float32, start int) error {
	if q.dev == nil || q.dev.stale {
		return nil // copied in whole before its next use
	}
	for off, p := 0, start; off < len(rows); {
		k := min((len(rows)-off)/q.D, q.K-p)
		if err := q.dev.e.Dev.CopyIn(device.PtrOf(q.dev.t).Add(4*p*q.D), device.Bytes32(rows[off:off+k*q.D])); err != nil {
			return errorf("queue: %w", err)
		}
		off += k * q.D
		p = (p + k) % q.K
	}
	return nil
}

// keyDev is a momentum network's values on a device: its parameters (every float32 input
// node but the image) and BatchNorm statistics, with their host tensors, which checkpoints
// read.
type keyDev struct {
	e        *device.Engine
	nodes    []*G.Node
	host     []*tensor.Dense
	dev      []*tensor.Dense
	bns      []*ops.BNState
	bnH, bnD [][2]*tensor.Dense
	in       *tensor.Dense // the image chunk
	out      [][]float32   // each output's values of one chunk, copied out
	onDev    bool          // the nodes and BN states hold the device tensors
	devOK    bool          // the device holds the current values
	hostOK   bool          // the host holds them
}

// toDevice moves the network onto e (once: its machine is built again over the device
// tensors) and binds its device values, copying the host ones in when they are newer.
func (k *keyNet) toDevice(e *device.Engine) error {
	if k.dev != nil {
		return k.dev.bindDevice()
	}
	d := &keyDev{e: e, hostOK: true}
	for _, n := range k.m.Graph.AllNodes() {
		if n.Op() != nil || n == k.in || n.Value() == nil {
			continue
		}
		t, ok := n.Value().(*tensor.Dense)
		if !ok || t.Dtype() != tensor.Float32 || device.Of(t) != nil {
			continue
		}
		d.nodes, d.host = append(d.nodes, n), append(d.host, t)
		d.dev = append(d.dev, e.New(t.Shape().Clone()...))
	}
	for _, st := range ops.BNStates(k.m.Graph) {
		d.bns = append(d.bns, st)
		d.bnH = append(d.bnH, [2]*tensor.Dense{st.Mean, st.Var})
		d.bnD = append(d.bnD, [2]*tensor.Dense{e.New(st.Mean.Shape().Clone()...), e.New(st.Var.Shape().Clone()...)})
	}
	d.in = e.New(k.in.Shape().Clone()...)
	if err := G.Let(k.in, d.in); err != nil {
		return errorf("momentum network: %w", err)
	}
	for _, o := range k.outs {
		d.out = append(d.out, make([]float32, o.Shape().TotalSize()))
	}
	if err := d.bindDevice(); err != nil {
		return err
	}
	// The machine gives the values it holds at construction its engine; the plan's arenas
	// are host memory, which device ops do not write.
	if k.plan != nil {
		k.plan.Release()
		k.plan = nil
	}
	k.vm.Close()
	k.vm = G.NewTapeMachine(k.m.Graph, G.WithEngine(e))
	k.dev = d
	return nil
}

// bindDevice binds the device values, copying the host ones in first when they are newer.
// The caller is about to change them (an EMA, a pass): the host is stale from then on.
func (d *keyDev) bindDevice() error {
	if !d.devOK {
		for i, h := range d.host {
			if err := d.e.Dev.CopyIn(device.PtrOf(d.dev[i]), device.Bytes32(h.Data().([]float32)[:h.Shape().TotalSize()])); err != nil {
				return errorf("momentum network: %w", err)
			}
		}
		for i := range d.bns {
			for j, h := range d.bnH[i] {
				if err := d.e.Dev.CopyIn(device.PtrOf(d.bnD[i][j]), device.Bytes32(h.Data().([]float32)[:h.Shape().TotalSize()])); err != nil {
					return errorf("momentum network: %w", err)
				}
			}
		}
		d.devOK = true
	}
	if !d.onDev {
		for i, n := range d.nodes {
			if err := G.Let(n, d.dev[i]); err != nil {
				return errorf("momentum network: %w", err)
			}
		}
		for i, st := range d.bns {
			st.Mean, st.Var = d.bnD[i][0], d.bnD[i][1]
		}
		d.onDev = true
	}
	d.hostOK = false
	return nil
}

// onHost binds the network's host values, copied out of the device first when they are
// older (before a checkpoint or a restore reads or writes them). Without a device it does
// nothing.
func (k *keyNet) onHost() error {
	d := k.dev
	if d == nil || !d.onDev {
		return nil
	}
	if !d.hostOK {
		for i, h := range d.host {
			if err := d.e.Dev.CopyOut(device.Bytes32(h.Data().([]float32)[:h.Shape().TotalSize()]), device.PtrOf(d.dev[i])); err != nil {
				return errorf("momentum network: %w", err)
			}
		}
		for i := range d.bns {
			for j, h := range d.bnH[i] {
				if err := d.e.Dev.CopyOut(device.Bytes32(h.Data().([]float32)[:h.Shape().TotalSize()]), device.PtrOf(d.bnD[i][j])); err != nil {
					return errorf("momentum network: %w", err)
				}
			}
		}
		d.hostOK = true
	}
	for i, n := range d.nodes {
		if err := G.Let(n, d.host[i]); err != nil {
			return errorf("momentum network: %w", err)
		}
	}
	for i, st := range d.bns {
		st.Mean, st.Var = d.bnH[i][0], d.bnH[i][1]
	}
	d.onDev = false
	return nil
}

// restored says the host values were overwritten (a restore): the device copies them in
// before the next pass.
func (k *keyNet) restored() {
	if k.dev != nil {
		k.dev.devOK = false
	}
}

// input copies one chunk of images into the device input.
func (d *keyDev) input(buf []float32) error {
	if err := d.e.Dev.CopyIn(device.PtrOf(d.in), device.Bytes32(buf)); err != nil {
		return errorf("momentum network input: %w", err)
	}
	return nil
}

// output is output i's values of the chunk just run (node o): the host tensor's, or on a
// device copied out.
func (k *keyNet) output(i int, o *G.Node) ([]float32, error) {
	if k.dev == nil {
		v, ok := o.Value().Data().([]float32)
		if !ok {
			return nil, errorf("momentum network output %s holds %T, want []float32", o.Name(), o.Value().Data())
		}
		return v, nil
	}
	t, ok := o.Value().(*tensor.Dense)
	if !ok || device.Of(t) == nil || t.Shape().TotalSize() != len(k.dev.out[i]) {
		return nil, errorf("momentum network output %s is not a device tensor of %d values", o.Name(), len(k.dev.out[i]))
	}
	if err := k.dev.e.Dev.CopyOut(device.Bytes32(k.dev.out[i]), device.PtrOf(t)); err != nil {
		return nil, errorf("momentum network output %s: %w", o.Name(), err)
	}
	return k.dev.out[i], nil
}

// updateOn is Update on the device: axpby over the target's device values (bound: the
// caller moved the network there) and the online network's resident ones.
func (e *EMA) updateOn(r train.Resident, m float64) error {
	if !(m >= 0 && m <= 1) {
		return errorf("EMA: momentum %v, want 0 ≤ m ≤ 1", m)
	}
	a, b := float32(m), float32(1-m)
	for _, p := range e.pairs {
		t, ok := p[0].Node.Value().(*tensor.Dense)
		if !ok || device.Of(t) == nil {
			return errorf("EMA: parameter %q of the momentum network is not on the device", p[0].Name)
		}
		o, err := r.Param(p[1].Node)
		if err != nil {
			return errorf("EMA: %w", err)
		}
		n := t.Shape().TotalSize()
		if o.Shape().TotalSize() != n {
			return errorf("EMA: parameter %q has %d values on the device, its target %d", p[1].Name, o.Shape().TotalSize(), n)
		}
		grid, block := device.Grid1D(n)
		if err := r.Engine().Dev.Launch("axpby", grid, block, 0, device.PtrOf(t), device.PtrOf(o), a, b, int32(n)); err != nil {
			return errorf("EMA: %w", err)
		}
	}
	return nil
}

// bnMergeDev holds a bnMerge's r0 on the device.
type bnMergeDev struct{ r0 [][2]*tensor.Dense }

// beforeOn is before on the device: r0 and the twin's statistics are copies of the first's
// (scale by 1, a device-side copy: exact).
func (m *bnMerge) beforeOn(r train.Resident) error {
	e := r.Engine()
	if m.dev == nil {
		m.dev = &bnMergeDev{}
		for _, bn := range m.first {
			m.dev.r0 = append(m.dev.r0, [2]*tensor.Dense{e.New(bn.State.Mean.Shape().Clone()...), e.New(bn.State.Var.Shape().Clone()...)})
		}
	}
	for i, bn := range m.first {
		f, err := r.Stats(bn.State)
		if err != nil {
			return errorf("BatchNorm merge: %w", err)
		}
		tw, err := r.Stats(m.twin[i].State)
		if err != nil {
			return errorf("BatchNorm merge: %w", err)
		}
		for j := range f {
			if err := deviceCopy(e, m.dev.r0[i][j], f[j]); err != nil {
				return err
			}
			if err := deviceCopy(e, tw[j], m.dev.r0[i][j]); err != nil {
				return err
			}
		}
	}
	return nil
}

// afterOn is after on the device: elementwise.cu's bn_merge.
func (m *bnMerge) afterOn(r train.Resident) error {
	if m.dev == nil {
		return errorf("BatchNorm merge: after without before")
	}
	for i, bn := range m.first {
		f, err := r.Stats(bn.State)
		if err != nil {
			return errorf("BatchNorm merge: %w", err)
		}
		tw, err := r.Stats(m.twin[i].State)
		if err != nil {
			return errorf("BatchNorm merge: %w", err)
		}
		for j := range f {
			n := f[j].Shape().TotalSize()
			grid, block := device.Grid1D(n)
			if err := r.Engine().Dev.Launch("bn_merge", grid, block, 0, device.PtrOf(f[j]), device.PtrOf(tw[j]),
				device.PtrOf(m.dev.r0[i][j]), float32(bn.State.Momentum), int32(n)); err != nil {
				return errorf("BatchNorm merge: %w", err)
			}
		}
	}
	return nil
}

// deviceCopy copies src into dst, both device tensors of one size, by a kernel (y = 1·x).
func deviceCopy(e *device.Engine, dst, src *tensor.Dense) error {
	n := src.Shape().TotalSize()
	grid, block := device.Grid1D(n)
	if err := e.Dev.Launch("scale", grid, block, 0, device.PtrOf(src), float32(1), device.PtrOf(dst), int32(n)); err != nil {
		return errorf("device copy: %w", err)
	}
	return nil
}

// mergeBefore and mergeAfter run a bnMerge's halves where the statistics live.
func (b *base) mergeBefore(m *bnMerge) error {
	if b.res != nil {
		return m.beforeOn(b.res)
	}
	m.before()
	return nil
}

func (b *base) mergeAfter(m *bnMerge) error {
	if b.res != nil {
		return m.afterOn(b.res)
	}
	m.after()
	return nil
}

// targetOn moves a target network (BYOL's, PixPro's) onto the device in a resident run.
func (b *base) targetOn(k *keyNet) error {
	if b.res != nil {
		return k.toDevice(b.res.Engine())
	}
	return nil
}

// emaUpdate moves target network k (paired with the online one by e) by momentum m, on the
// device in a resident run.
func (b *base) emaUpdate(e *EMA, k *keyNet, m float64) error {
	if b.res == nil {
		return e.Update(m)
	}
	if err := k.toDevice(b.res.Engine()); err != nil {
		return err
	}
	return e.updateOn(b.res, m)
}
