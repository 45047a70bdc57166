package pretext

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/ops"
)

// MoCo is MoCo v2 (arXiv:2003.04297; facebookresearch/moco): two MoCo v2 views of each
// image; the query network (encoder → global pool → MLP projector → L2-normalised 128-d q)
// sees view 1, the momentum key network sees view 2, and InfoNCE at temperature T contrasts
// each query with its key against a queue of K earlier keys. After every step the keys are
// enqueued; before every key forward the key network moves towards the query network.
//
// As EDMoCo (NewEDMoCo) the network is an encoder-decoder: the decoder's output map is what
// is pooled and projected.
type MoCo struct {
	base
	cfg    MoCoConfig
	mom    *momentumNet
	queue  *Queue
	k, neg *G.Node
	logits *G.Node   // InfoNCE's [n, 1+K], for the monitors
	pass   *keyPass  // this step's key forward, started by Bind
	keys   []float32 // this step's normalised keys (once the pass is done), enqueued by AfterStep
}

// NewMoCo returns MoCo v2 on the encoder.
func NewMoCo(o Options, c MoCoConfig) (*MoCo, error) { return newMoCo("moco", o, c, false) }

// NewEDMoCo returns MoCo on the encoder-decoder (Options.Net.Head, default MoCo's FCN): the
// decoder's output map is average-pooled into the projector.
func NewEDMoCo(o Options, c MoCoConfig) (*MoCo, error) { return newMoCo("edmoco", o, c, true) }

func newMoCo(method string, o Options, c MoCoConfig, decoder bool) (*MoCo, error) {
	if err := c.check(); err != nil {
		return nil, inMethod(method, err)
	}
	views, err := o.twoViews(data.MoCoV2(o.Size))
	if err != nil {
		return nil, inMethod(method, err)
	}
	pt := graphs.Pretext{Projector: graphs.ProjectorMoCoV2, Dim: c.Dim, Hidden: c.Hidden, OnDecoder: decoder}
	b, err := newBase(method, o, decoder, views, pt, graphs.Projection)
	if err != nil {
		return nil, err
	}
	return &MoCo{base: b, cfg: c}, nil
}

// Config returns the method's hyper-parameters.
func (m *MoCo) Config() MoCoConfig { return m.cfg }

// Build imports the query network at batch n, the key network at n/KeyChunks, and builds
// InfoNCE against the queue.
func (m *MoCo) Build(n int) error {
	mp, err := m.buildOnline(n, n)
	if err != nil {
		return err
	}
	z, err := m.online.Output(graphs.Projection)
	if err != nil {
		return errorf("%w", err)
	}
	q, err := ops.L2Normalize(z, 1, normEps)
	if err != nil {
		return err
	}
	g, d := m.online.Graph, m.cfg.Dim
	if m.k, err = lateInput([]*G.Node{q}, "moco/keys", []int{n, d}, func(dst []float32) error {
		k, err := m.stepKeys()
		copy(dst, k)
		return err
	}); err != nil {
		return err
	}
	m.neg = input(g, tensor.Float32, "moco/queue", m.cfg.Queue, d)
	if m.loss, m.logits, err = infoNCEWithLogits(q, m.k, m.neg, m.cfg.Temperature); err != nil {
		return err
	}
	if m.mom, err = m.newMomentumNet(mp, m.online, n, m.cfg.KeyChunks, m.opts.Size, m.opts.Seed, graphs.Projection); err != nil {
		return inMethod(m.method, err)
	}
	m.queue, err = NewQueue(m.cfg.Queue, d, uint64(m.opts.Seed))
	return err
}

// Bind gives the query network view 1 and the queue, and starts the key network's update
// and forward pass on view 2, which the keys node waits for (keyPass).
func (m *MoCo) Bind(b *data.Batch, step int) error {
	v1, err := m.view(b, 0)
	if err != nil {
		return err
	}
	v2, err := m.view(b, 1)
	if err != nil {
		return err
	}
	m.pass.join()
	if err := m.bindInput(m.online, v1); err != nil {
		return err
	}
	m.keys = nil
	m.pass = m.keyPassOf(func() ([][]float32, error) { return m.mom.encode(v2, step, m.cfg.Momentum) })
	return m.bindQueue(m.neg, m.queue)
}

// stepKeys are this step's normalised keys, once the key pass has finished.
func (m *MoCo) stepKeys() ([]float32, error) {
	if m.keys != nil {
		return m.keys, nil
	}
	outs, err := m.pass.wait()
	if err != nil {
		return nil, err
	}
	m.keys = outs[0]
	normalizeRows(m.keys, m.cfg.Dim)
	return m.keys, nil
}

// AfterStep enqueues this step's keys (after the loss, as the official code does).
func (m *MoCo) AfterStep(int) error {
	if m.pass == nil {
		return errorf("%s: AfterStep without a Bind before it", m.method)
	}
	keys, err := m.stepKeys()
	if err != nil {
		return err
	}
	err = m.queue.Enqueue(keys)
	m.keys, m.pass = nil, nil
	return err
}

// Checkpoint holds the query network, the key network and the queue.
func (m *MoCo) Checkpoint() (map[string][]byte, error) {
	m.pass.join()
	return m.checkpointMomentum(m.mom.network(), savedQueue{QueueFile, m.queue})
}

// Restore loads what Checkpoint wrote.
func (m *MoCo) Restore(files map[string][]byte) error {
	m.pass.join()
	return m.restoreMomentum(files, m.mom.network(), savedQueue{QueueFile, m.queue})
}
