package pretext

import (
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/ops"
)

// SimCLR (arXiv:2002.05709; google-research/simclr): two SimCLR views of each image go
// through one network as a single batch of 2N (its BatchNorms see both views, as the
// official code concatenates them), encoder → global pool → MLP projector, and NT-Xent
// contrasts each view with the other view of its image against the 2N−2 others.
//
// The projector is SimCLR v1's MLP with one hidden layer (graphs' mocov2 projector); v2's
// three-layer head with BatchNorm is not built.
type SimCLR struct {
	base
	cfg    SimCLRConfig
	both   []float32 // the two views, one after the other: the network's input
	logits *G.Node   // NT-Xent's [2n, 2n], for the monitors
}

// NewSimCLR returns SimCLR.
func NewSimCLR(o Options, c SimCLRConfig) (*SimCLR, error) {
	if err := c.check(); err != nil {
		return nil, inMethod("simclr", err)
	}
	views, err := o.twoViews(data.TwoViews{A: data.SimCLRView(o.Size), B: data.SimCLRView(o.Size)})
	if err != nil {
		return nil, inMethod("simclr", err)
	}
	pt := graphs.Pretext{Projector: graphs.ProjectorMoCoV2, Dim: c.Dim, Hidden: c.Hidden}
	b, err := newBase("simclr", o, false, views, pt, graphs.Projection)
	if err != nil {
		return nil, err
	}
	return &SimCLR{base: b, cfg: c}, nil
}

// Config returns the method's hyper-parameters.
func (m *SimCLR) Config() SimCLRConfig { return m.cfg }

// Build imports the network at batch 2n and builds NT-Xent between its two halves.
func (m *SimCLR) Build(n int) error {
	if _, err := m.buildOnline(n, 2*n); err != nil {
		return err
	}
	z, err := m.online.Output(graphs.Projection)
	if err != nil {
		return errorf("%w", err)
	}
	a, err := ops.Slice(z, []int{0}, []int{n}, []int{0}, nil)
	if err != nil {
		return err
	}
	b, err := ops.Slice(z, []int{n}, []int{2 * n}, []int{0}, nil)
	if err != nil {
		return err
	}
	m.both = make([]float32, 2*n*3*m.opts.Size*m.opts.Size)
	m.loss, m.logits, err = ntXentWithLogits(a, b, m.cfg.Temperature)
	return err
}

// Bind puts view 1 then view 2 into the network's input.
func (m *SimCLR) Bind(b *data.Batch, _ int) error {
	v1, err := m.view(b, 0)
	if err != nil {
		return err
	}
	v2, err := m.view(b, 1)
	if err != nil {
		return err
	}
	copy(m.both, v1)
	copy(m.both[len(v1):], v2)
	return m.bindInput(m.online, m.both)
}

// AfterStep has nothing to do: SimCLR keeps no state besides the network.
func (m *SimCLR) AfterStep(int) error { return nil }

// Checkpoint holds the network.
func (m *SimCLR) Checkpoint() (map[string][]byte, error) {
	files := map[string][]byte{}
	return files, m.checkpointOnline(files)
}

// Restore loads what Checkpoint wrote.
func (m *SimCLR) Restore(files map[string][]byte) error { return m.restoreOnline(files) }
