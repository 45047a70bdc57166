package pretext

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/ops"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// DenseCL (Wang et al., arXiv:2011.09157; WXinlong/DenseCL openselfsup/models/densecl.py,
// necks.py): MoCo v2 with a dense branch. The encoder's map feeds MoCo's global projector
// (pooled) and DenseCL's 1×1-conv dense projector; each query cell of view 1 is matched to
// the key cell of view 2 whose *backbone* feature is most similar (DenseCLMatch) — or, with
// Match = geometry, to the cell covering it in the source image (PLMoCo's rule) — and
// contrasted against a second queue of dense keys: the pooled, normalised dense projection
// of each key image. Loss = (1 − λ)·InfoNCE(global) + λ·DenseCLDenseLoss.
type DenseCL struct {
	base
	cfg  DenseCLConfig
	grid data.Grid
	mom  *momentumNet
	pass *keyPass // this step's key forward, started by Bind

	gqueue, dqueue *Queue
	gk, gneg       *G.Node // global keys (late) and queue
	kpos, dneg     *G.Node // each query cell's matched key cell (late) and the dense queue
	labels         *G.Node // [N·h·w]: 0, or −1 for a cell without a positive (geometry)
	hw             int

	// This step's key values (fresh once the key pass is read).
	fresh  bool
	gkeys  []float32 // [N, Dim] normalised global keys
	kcells []float32 // [N·h·w, DenseDim] normalised key cells
	kfeat  []float32 // [N, C, h, w] the key network's backbone map
	dkeys  []float32 // [N, DenseDim] normalised pooled dense keys, for the dense queue
	match  []int     // this step's positive key cell (within its image) per query cell, −1: none
	lab    []float32 // the value bound to labels

	glogits, dlogits *G.Node // the losses' logits, for the monitors
}

// denseclOutputs are the network outputs DenseCL reads: the global projection, the dense
// projection and the backbone map (for the similarity match).
var denseclOutputs = []string{graphs.Projection, graphs.DenseProjection, graphs.Features}

// NewDenseCL returns DenseCL on the encoder's map.
func NewDenseCL(o Options, c DenseCLConfig) (*DenseCL, error) {
	if err := c.check(); err != nil {
		return nil, inMethod("densecl", err)
	}
	views, err := o.twoViews(data.MoCoV2(o.Size))
	if err != nil {
		return nil, inMethod("densecl", err)
	}
	pt := graphs.Pretext{Projector: graphs.ProjectorMoCoV2, Dim: c.Dim, Hidden: c.Hidden, Dense: true, DenseDim: c.DenseDim}
	b, err := newBase("densecl", o, false, views, pt, denseclOutputs...)
	if err != nil {
		return nil, err
	}
	return &DenseCL{base: b, cfg: c}, nil
}

// Config returns the method's hyper-parameters.
func (m *DenseCL) Config() DenseCLConfig { return m.cfg }

// Grid is the dense map's size, h×w cells per view (after Build).
func (m *DenseCL) Grid() data.Grid { return m.grid }

// Build imports the query network at batch n, the key network at n/KeyChunks, and the two
// losses.
func (m *DenseCL) Build(n int) error {
	c := m.cfg
	mp, err := m.buildOnline(n, n)
	if err != nil {
		return err
	}
	outs, err := outputs(m.online, denseclOutputs...)
	if err != nil {
		return err
	}
	z, dense, feat := outs[0], outs[1], outs[2]
	s := dense.Shape()
	m.grid, m.hw = data.Grid{H: s[2], W: s[3]}, s[2]*s[3]
	g, rows := m.online.Graph, n*m.hw

	gq, err := ops.L2Normalize(z, 1, normEps)
	if err != nil {
		return err
	}
	if m.gk, err = lateInput([]*G.Node{gq}, "densecl/global_keys", []int{n, c.Dim}, func(dst []float32) error {
		err := m.stepKeys()
		copy(dst, m.gkeys)
		return err
	}); err != nil {
		return err
	}
	m.gneg = input(g, tensor.Float32, "densecl/global_queue", c.Queue, c.Dim)
	gl, glogits, err := infoNCEWithLogits(gq, m.gk, m.gneg, c.Temperature)
	if err != nil {
		return err
	}

	q, err := denseCells(dense)
	if err != nil {
		return err
	}
	// The matched key cells wait for the key pass and for the query's backbone map (the
	// similarity match reads it): a late node after both.
	if m.kpos, err = lateInputFrom([]*G.Node{q, feat}, "densecl/matched_keys", []int{rows, c.DenseDim}, func(in []G.Value, dst []float32) error {
		return m.matchedKeys(in[1], dst)
	}); err != nil {
		return err
	}
	m.dneg = input(g, tensor.Float32, "densecl/dense_queue", c.DenseQueue, c.DenseDim)
	m.labels = input(g, tensor.Float32, "densecl/labels", rows)
	dl, dlogits, err := denseCLWithLogits(q, m.kpos, m.dneg, m.labels, c.Temperature)
	if err != nil {
		return err
	}
	if m.loss, err = weightedSum(g, "densecl", []*G.Node{gl, dl}, []float64{1 - c.DenseWeight, c.DenseWeight}); err != nil {
		return err
	}
	m.parts["global"], m.parts["dense"] = gl, dl
	m.glogits, m.dlogits = glogits, dlogits

	if m.mom, err = m.newMomentumNet(mp, m.online, n, c.KeyChunks, m.opts.Size, m.opts.Seed, denseclOutputs...); err != nil {
		return inMethod(m.method, err)
	}
	if m.gqueue, err = NewQueue(c.Queue, c.Dim, uint64(m.opts.Seed)); err != nil {
		return err
	}
	m.dqueue, err = NewQueue(c.DenseQueue, c.DenseDim, uint64(m.opts.Seed)+1)
	return err
}

// weightedSum is Σ w_i·x_i of scalar nodes.
func weightedSum(g *G.ExprGraph, what string, xs []*G.Node, ws []float64) (*G.Node, error) {
	var sum *G.Node
	for i, x := range xs {
		y, err := ops.Mul(x, scalar(g, x.Dtype(), what+"/weight", ws[i]))
		if err != nil {
			return nil, err
		}
		if sum == nil {
			sum = y
		} else if sum, err = ops.Add(sum, y); err != nil {
			return nil, err
		}
	}
	return sum, nil
}

// Bind gives the query network view 1 and the queues, binds the labels (the geometry match
// is known from the crops), and starts the key network's update and forward pass on view 2.
func (m *DenseCL) Bind(b *data.Batch, step int) error {
	v1, err := m.view(b, 0)
	if err != nil {
		return err
	}
	v2, err := m.view(b, 1)
	if err != nil {
		return err
	}
	rows := m.batch * m.hw
	m.lab = make([]float32, rows)
	m.match = nil
	if m.cfg.Match == MatchGeometry {
		if len(b.Geoms) < 2 {
			return errorf("%s: batch has geometries for %d views, want 2 (to match cells)", m.method, len(b.Geoms))
		}
		rowsOf, err := matchLabels(b.Geoms[0], b.Geoms[1], m.grid)
		if err != nil {
			return err
		}
		if len(rowsOf) != rows {
			return errorf("%s: %d geometry pairs for a batch of %d", m.method, len(b.Geoms[0]), m.batch)
		}
		m.match = make([]int, rows)
		for i, r := range rowsOf {
			m.match[i] = -1
			if r >= 0 {
				m.match[i] = int(r) - (i/m.hw)*m.hw
			} else {
				m.lab[i] = ignoreLabel
			}
		}
	}
	m.pass.join()
	if err := m.bindInput(m.online, v1); err != nil {
		return err
	}
	for _, in := range []struct {
		n *G.Node
		v []float32
	}{{m.labels, m.lab}} {
		if err := bind(in.n, in.v); err != nil {
			return err
		}
	}
	if err := m.bindQueue(m.gneg, m.gqueue); err != nil {
		return err
	}
	if err := m.bindQueue(m.dneg, m.dqueue); err != nil {
		return err
	}
	m.fresh = false
	m.pass = m.keyPassOf(func() ([][]float32, error) { return m.mom.encode(v2, step, m.cfg.Momentum) })
	return nil
}

// stepKeys reads the key pass once it has finished: normalised global keys, normalised key
// cells, the key backbone map and the pooled dense keys.
func (m *DenseCL) stepKeys() error {
	if m.fresh {
		return nil
	}
	outs, err := m.pass.wait()
	if err != nil {
		return err
	}
	d, hw, n := m.cfg.DenseDim, m.hw, m.batch
	m.gkeys = outs[0]
	normalizeRows(m.gkeys, m.cfg.Dim)
	if len(m.kcells) != n*hw*d {
		m.kcells, m.dkeys = make([]float32, n*hw*d), make([]float32, n*d)
	}
	for i := 0; i < n; i++ {
		src := outs[1][i*d*hw : (i+1)*d*hw]
		cellsOf(m.kcells[i*hw*d:(i+1)*hw*d], src, d, hw)
		// DenseCLNeck's avgpool2 of the dense projection, normalised (densecl.py: k2).
		pooled := m.dkeys[i*d : (i+1)*d]
		for k := 0; k < d; k++ {
			var s float32
			for _, v := range src[k*hw : (k+1)*hw] {
				s += v
			}
			pooled[k] = s / float32(hw)
		}
	}
	normalizeRows(m.dkeys, d)
	m.kfeat = outs[2]
	m.fresh = true
	return nil
}

// matchedKeys writes each query cell's positive key cell into dst: by backbone similarity
// between the query's map qfeat and the key network's, or by the crops' geometry (Bind).
// A cell without a positive gets a zero row; its label is −1, so it adds nothing.
func (m *DenseCL) matchedKeys(qfeat G.Value, dst []float32) error {
	if err := m.stepKeys(); err != nil {
		return err
	}
	if m.cfg.Match == MatchSimilarity {
		qf, ok := qfeat.Data().([]float32)
		if !ok || len(qf) != len(m.kfeat) {
			return errorf("%s: backbone map of the query has %d values, the key's %d", m.method, len(qf), len(m.kfeat))
		}
		m.match = DenseCLMatch(qf, m.kfeat, m.batch, len(qf)/(m.batch*m.hw), m.hw)
	}
	d := m.cfg.DenseDim
	for i, j := range m.match {
		row := dst[i*d : (i+1)*d]
		if j < 0 {
			clear(row)
			continue
		}
		img := i / m.hw
		copy(row, m.kcells[(img*m.hw+j)*d:(img*m.hw+j+1)*d])
	}
	return nil
}

// AfterStep enqueues the global keys and one pooled dense key per image (DenseCL's
// _dequeue_and_enqueue2).
func (m *DenseCL) AfterStep(int) error {
	if m.pass == nil {
		return errorf("%s: AfterStep without a Bind before it", m.method)
	}
	if err := m.stepKeys(); err != nil {
		return err
	}
	m.pass, m.fresh = nil, false
	if err := m.gqueue.Enqueue(m.gkeys); err != nil {
		return err
	}
	return m.dqueue.Enqueue(m.dkeys)
}

// Checkpoint holds the query and key networks and both queues.
func (m *DenseCL) Checkpoint() (map[string][]byte, error) {
	m.pass.join()
	return m.checkpointMomentum(m.mom.network(), m.queues()...)
}

// Restore loads what Checkpoint wrote.
func (m *DenseCL) Restore(files map[string][]byte) error {
	m.pass.join()
	return m.restoreMomentum(files, m.mom.network(), m.queues()...)
}

func (m *DenseCL) queues() []savedQueue {
	return []savedQueue{{QueueFile, m.gqueue}, {DenseQueueFile, m.dqueue}}
}

// lateInputFrom is lateInput whose fill also sees the values of the nodes it comes after
// (DenseCL's match reads the query's backbone map).
func lateInputFrom(after []*G.Node, what string, shape []int, fill func(in []G.Value, dst []float32) error) (*G.Node, error) {
	if len(after) == 0 {
		return nil, errorf("%s: no node to come after", what)
	}
	op := lateFromOp{lateOp: lateOp{name: uniqueName(what), shape: append(tensor.Shape(nil), shape...), dev: new(lateDev)}, fillFrom: fill}
	for _, n := range after {
		op.ranks = append(op.ranks, n.Shape().Dims())
	}
	n, err := G.ApplyOp(op, after...)
	if err != nil {
		return nil, errorf("%s: %w", what, err)
	}
	return n, nil
}

type lateFromOp struct {
	lateOp
	fillFrom func([]G.Value, []float32) error
}

// Do gives fill host values: on a device, the inputs are copied out first (the match runs
// on the host) and the result copied back in.
func (op lateFromOp) Do(in ...G.Value) (G.Value, error) {
	v := make([]float32, op.shape.TotalSize())
	host := in
	if len(in) > 0 {
		if d, ok := in[0].(*tensor.Dense); ok && device.Of(d) != nil {
			host = make([]G.Value, len(in))
			for i, x := range in {
				if t, ok := x.(*tensor.Dense); ok && device.Of(t) != nil {
					h, err := device.Download(t)
					if err != nil {
						return nil, errorf("%s: %w", op.name, err)
					}
					x = h
				}
				host[i] = x
			}
		}
	}
	if err := op.fillFrom(host, v); err != nil {
		return nil, err
	}
	return op.value(in, v)
}

var _ G.SDOp = lateFromOp{}
