package pretext

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/ops"
)

// PLMoCo is patch-level MoCo: MoCo's two views, query network and momentum key network, but
// contrast between feature-map cells. The dense map (the encoder's at 1/OutputStride, or the
// decoder's for PLEDMoCo) goes through DenseCL's 1×1-conv projector and becomes one
// L2-normalised vector per cell. The two views' crop geometries say which view-2 cell covers
// the centre of each view-1 cell (data.CellMatch): that key cell is the query cell's positive;
// every other key cell of the batch and a queue of earlier key cells are its negatives
// (DenseInfoNCE, temperature T). Query cells whose centre is outside view 2 have no positive
// and add nothing. After each step, CellsPerImage random key cells of every image join the
// dense queue. With GlobalWeight λ > 0, MoCo's image-level loss on a global projector is
// added: loss = L_dense + λ·L_global.
type PLMoCo struct {
	base
	cfg    PLMoCoConfig
	grid   data.Grid
	mom    *momentumNet
	dqueue *Queue
	keysIn *G.Node   // [N·h·w + DenseQueue, DenseDim]: this batch's key cells, then the queue
	labels *G.Node   // [N·h·w]: each query cell's positive row, or −1
	pass   *keyPass  // this step's key forward, started by Bind
	keys   []float32 // keysIn's values
	lab    []float32 // the value bound to labels
	fresh  bool      // keys (and gkeys) hold this step's cells: the key pass is done and read

	// The optional global branch (GlobalWeight > 0).
	gqueue    *Queue
	gk, gneg  *G.Node
	gkeys     []float32
	cellsPerN int // h·w

	denseLogits, globalLogits *G.Node // the losses' logits, for the monitors (global: nil when λ = 0)
}

// NewPLMoCo returns PLMoCo on the encoder's dense map.
func NewPLMoCo(o Options, c PLMoCoConfig) (*PLMoCo, error) { return newPLMoCo("plmoco", o, c, false) }

// NewPLEDMoCo returns PLMoCo on the encoder-decoder's output map (Options.Net.Head, default
// MoCo's FCN).
func NewPLEDMoCo(o Options, c PLMoCoConfig) (*PLMoCo, error) {
	return newPLMoCo("pledmoco", o, c, true)
}

func newPLMoCo(method string, o Options, c PLMoCoConfig, decoder bool) (*PLMoCo, error) {
	if err := c.check(); err != nil {
		return nil, inMethod(method, err)
	}
	views, err := o.twoViews(data.MoCoV2(o.Size))
	if err != nil {
		return nil, inMethod(method, err)
	}
	pt := graphs.Pretext{Dense: true, DenseDim: c.DenseDim, OnDecoder: decoder}
	outs := []string{graphs.DenseProjection}
	if c.GlobalWeight > 0 {
		pt.Projector, pt.Dim, pt.Hidden = graphs.ProjectorMoCoV2, c.Dim, c.Hidden
		outs = append(outs, graphs.Projection)
	}
	b, err := newBase(method, o, decoder, views, pt, outs...)
	if err != nil {
		return nil, err
	}
	return &PLMoCo{base: b, cfg: c}, nil
}

// Config returns the method's hyper-parameters.
func (m *PLMoCo) Config() PLMoCoConfig { return m.cfg }

// Grid is the dense map's size, h×w cells per view (after Build).
func (m *PLMoCo) Grid() data.Grid { return m.grid }

// Build imports the query network at batch n, the key network at n/KeyChunks, and builds the
// dense loss (plus the global one when λ > 0).
func (m *PLMoCo) Build(n int) error {
	c := m.cfg
	outs := []string{graphs.DenseProjection}
	if c.GlobalWeight > 0 {
		outs = append(outs, graphs.Projection)
	}
	mp, err := m.buildOnline(n, n)
	if err != nil {
		return err
	}
	dense, err := m.online.Output(graphs.DenseProjection)
	if err != nil {
		return errorf("%w", err)
	}
	s := dense.Shape()
	m.grid = data.Grid{H: s[2], W: s[3]}
	m.cellsPerN = s[2] * s[3]
	q, err := denseCells(dense)
	if err != nil {
		return err
	}
	g, rows := m.online.Graph, n*m.cellsPerN
	m.keys = make([]float32, (rows+c.DenseQueue)*c.DenseDim)
	if m.keysIn, err = lateInput([]*G.Node{q}, "plmoco/keys", []int{rows + c.DenseQueue, c.DenseDim}, func(dst []float32) error {
		err := m.stepKeys()
		copy(dst, m.keys)
		return err
	}); err != nil {
		return err
	}
	m.labels = input(g, tensor.Float32, "plmoco/labels", rows)
	dl, dlogits, err := denseInfoNCEWithLogits(q, m.keysIn, m.labels, c.Temperature)
	if err != nil {
		return err
	}
	m.loss, m.denseLogits = dl, dlogits
	if c.GlobalWeight > 0 {
		if err := m.buildGlobal(n, dl); err != nil {
			return err
		}
	}
	if m.mom, err = m.newMomentumNet(mp, m.online, n, c.KeyChunks, m.opts.Size, m.opts.Seed, outs...); err != nil {
		return inMethod(m.method, err)
	}
	m.dqueue, err = NewQueue(c.DenseQueue, c.DenseDim, uint64(m.opts.Seed)+1)
	return err
}

// buildGlobal adds λ·InfoNCE of the global projections to the dense loss dl.
func (m *PLMoCo) buildGlobal(n int, dl *G.Node) error {
	c, g := m.cfg, m.online.Graph
	z, err := m.online.Output(graphs.Projection)
	if err != nil {
		return errorf("%w", err)
	}
	q, err := ops.L2Normalize(z, 1, normEps)
	if err != nil {
		return err
	}
	if m.gk, err = lateInput([]*G.Node{q}, "plmoco/global_keys", []int{n, c.Dim}, func(dst []float32) error {
		err := m.stepKeys()
		copy(dst, m.gkeys)
		return err
	}); err != nil {
		return err
	}
	m.gneg = input(g, tensor.Float32, "plmoco/global_queue", c.Queue, c.Dim)
	gl, glogits, err := infoNCEWithLogits(q, m.gk, m.gneg, c.Temperature)
	if err != nil {
		return err
	}
	weighted, err := ops.Mul(gl, scalar(g, tensor.Float32, "plmoco/lambda", c.GlobalWeight))
	if err != nil {
		return err
	}
	if m.loss, err = ops.Add(dl, weighted); err != nil {
		return err
	}
	m.parts["dense"], m.parts["global"] = dl, gl
	m.globalLogits = glogits
	m.gqueue, err = NewQueue(c.Queue, c.Dim, uint64(m.opts.Seed)+2)
	return err
}

// Bind gives the query network view 1, binds the table of positives, and starts the key
// network's update and forward pass on view 2 (keyPass): the keys node waits for it and
// takes its key cells with the dense queue behind them.
func (m *PLMoCo) Bind(b *data.Batch, step int) error {
	v1, err := m.view(b, 0)
	if err != nil {
		return err
	}
	v2, err := m.view(b, 1)
	if err != nil {
		return err
	}
	if len(b.Geoms) < 2 {
		return errorf("%s: batch has geometries for %d views, want 2 (to match cells)", m.method, len(b.Geoms))
	}
	if m.lab, err = matchLabels(b.Geoms[0], b.Geoms[1], m.grid); err != nil {
		return err
	}
	if len(m.lab) != m.labels.Shape().TotalSize() {
		return errorf("%s: %d geometry pairs for a batch of %d", m.method, len(b.Geoms[0]), m.batch)
	}
	m.pass.join()
	if err := m.bindInput(m.online, v1); err != nil {
		return err
	}
	if err := bind(m.labels, m.lab); err != nil {
		return err
	}
	m.fresh = false
	m.pass = m.keyPassOf(func() ([][]float32, error) { return m.mom.encode(v2, step, m.cfg.Momentum) })
	if m.gk == nil {
		return nil
	}
	return m.bindQueue(m.gneg, m.gqueue)
}

// stepKeys fills keys with this step's key cells and the dense queue behind them (and gkeys
// with the normalised global keys) once the key pass has finished.
func (m *PLMoCo) stepKeys() error {
	if m.fresh {
		return nil
	}
	outs, err := m.pass.wait()
	if err != nil {
		return err
	}
	d, hw := m.cfg.DenseDim, m.cellsPerN
	for i := 0; i < m.batch; i++ {
		cellsOf(m.keys[i*hw*d:(i+1)*hw*d], outs[0][i*d*hw:(i+1)*d*hw], d, hw)
	}
	copy(m.keys[m.batch*hw*d:], m.dqueue.Data)
	if m.gk != nil {
		m.gkeys = outs[1]
		normalizeRows(m.gkeys, m.cfg.Dim)
	}
	m.fresh = true
	return nil
}

// AfterStep enqueues CellsPerImage random key cells of every image (and the global keys).
func (m *PLMoCo) AfterStep(step int) error {
	if m.pass == nil {
		return errorf("%s: AfterStep without a Bind before it", m.method)
	}
	if err := m.stepKeys(); err != nil {
		return err
	}
	m.pass, m.fresh = nil, false
	if err := m.dqueue.Enqueue(m.sampleCells(step)); err != nil {
		return err
	}
	if m.gqueue != nil {
		return m.gqueue.Enqueue(m.gkeys)
	}
	return nil
}

// sampleCells picks CellsPerImage distinct cells of each image's key map (all of them when
// there are fewer), in image order, from the step's random source.
func (m *PLMoCo) sampleCells(step int) []float32 {
	d, hw := m.cfg.DenseDim, m.cellsPerN
	k := min(m.cfg.CellsPerImage, hw)
	r := stepRand(m.opts.Seed, step, randCells)
	out := make([]float32, 0, m.batch*k*d)
	for i := 0; i < m.batch; i++ {
		for _, c := range r.Perm(hw)[:k] {
			row := (i*hw + c) * d
			out = append(out, m.keys[row:row+d]...)
		}
	}
	return out
}

// Checkpoint holds the query and key networks and the queues (the global one only with
// λ > 0).
func (m *PLMoCo) Checkpoint() (map[string][]byte, error) {
	m.pass.join()
	return m.checkpointMomentum(m.mom.network(), m.queues()...)
}

// Restore loads what Checkpoint wrote.
func (m *PLMoCo) Restore(files map[string][]byte) error {
	m.pass.join()
	return m.restoreMomentum(files, m.mom.network(), m.queues()...)
}

// queues are the queues a checkpoint holds; gqueue is nil without the global branch.
func (m *PLMoCo) queues() []savedQueue {
	return []savedQueue{{DenseQueueFile, m.dqueue}, {QueueFile, m.gqueue}}
}
