package pretext

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
)

// BYOL (arXiv:2006.07733; google-deepmind/deepmind-research byol/): the online network
// (encoder → projector → predictor) predicts, from each of BYOL's two asymmetric views, the
// target network's projection of the other view; the target is an EMA of the online network
// whose momentum τ rises from τ_base to 1 along a cosine over the run. No negatives.
//
// Each view goes through the online network in its own forward pass (two imports sharing
// parameters), so each has BatchNorm statistics of its own as in the official code; the
// target encodes each view as one batch too.
type BYOL struct {
	base
	cfg    BYOLConfig
	twin   *importer.Model
	merge  *bnMerge
	target *keyNet
	ema    *EMA
	t1, t2 *G.Node
}

// NewBYOL returns BYOL. Options.Steps sets the length of the τ schedule.
func NewBYOL(o Options, c BYOLConfig) (*BYOL, error) {
	if err := c.check(); err != nil {
		return nil, inMethod("byol", err)
	}
	v := data.BYOLViews(o.Size)
	views, err := o.twoViews(data.TwoViews{A: v[0], B: v[1]})
	if err != nil {
		return nil, inMethod("byol", err)
	}
	pt := graphs.Pretext{Projector: graphs.ProjectorBYOL, Dim: c.Dim, Hidden: c.Hidden, PredictorHidden: c.PredictorHidden}
	b, err := newBase("byol", o, false, views, pt, graphs.Projection, graphs.Prediction)
	if err != nil {
		return nil, err
	}
	return &BYOL{base: b, cfg: c}, nil
}

// Config returns the method's hyper-parameters.
func (m *BYOL) Config() BYOLConfig { return m.cfg }

// Tau is the target momentum used after step k.
func (m *BYOL) Tau(k int) float64 { return byolTau(m.cfg.TauBase, k, m.opts.Steps) }

// Build imports the online network for each view, the target network, and the loss.
func (m *BYOL) Build(n int) error {
	mp, err := m.buildOnline(n, n)
	if err != nil {
		return err
	}
	if m.twin, m.merge, err = importTwin(mp, m.online, n, m.opts.Size); err != nil {
		return err
	}
	p1, err := m.online.Output(graphs.Prediction)
	if err != nil {
		return errorf("%w", err)
	}
	p2, err := m.twin.Output(graphs.Prediction)
	if err != nil {
		return errorf("%w", err)
	}
	g := m.online.Graph
	m.t1 = input(g, tensor.Float32, "byol/target1", n, m.cfg.Dim)
	m.t2 = input(g, tensor.Float32, "byol/target2", n, m.cfg.Dim)
	if m.loss, err = BYOLLoss(p1, m.t2, p2, m.t1); err != nil {
		return err
	}
	if m.target, err = newKeyNet(mp, n, m.opts.Size, graphs.Projection); err != nil {
		return err
	}
	if m.ema, err = NewEMA(m.target.m, m.online); err != nil {
		return err
	}
	return m.ema.Copy()
}

// Bind feeds view 1 and view 2 to the online network's two passes and binds the target's
// projections of both.
func (m *BYOL) Bind(b *data.Batch, _ int) error {
	var t [2][]float32
	for i, in := range []*importer.Model{m.online, m.twin} {
		v, err := m.view(b, i)
		if err != nil {
			return err
		}
		if err := m.bindInput(in, v); err != nil {
			return err
		}
		outs, err := m.target.encode(v, nil)
		if err != nil {
			return err
		}
		t[i] = outs[0]
	}
	m.merge.before()
	if err := bind(m.t1, t[0]); err != nil {
		return err
	}
	return bind(m.t2, t[1])
}

// AfterStep merges the two passes' BatchNorm statistics and moves the target by τ(step),
// after the online update as in byol_experiment.py.
func (m *BYOL) AfterStep(step int) error {
	m.merge.after()
	return m.ema.Update(m.Tau(step))
}

// Checkpoint holds the online and the target network.
func (m *BYOL) Checkpoint() (map[string][]byte, error) { return m.checkpointMomentum(m.target) }

// Restore loads what Checkpoint wrote.
func (m *BYOL) Restore(files map[string][]byte) error { return m.restoreMomentum(files, m.target) }
