package pretext

import (
	"fmt"

	G "gorgonia.org/gorgonia"

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
	pass   *keyPass // this step's target projections of both views, started by Bind
	z1     *G.Node  // the online projection of view 1, for the collapse monitor
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
	if m.z1, err = m.online.Output(graphs.Projection); err != nil {
		return errorf("%w", err)
	}
	p2, err := m.twin.Output(graphs.Prediction)
	if err != nil {
		return errorf("%w", err)
	}
	after := []*G.Node{p1, p2}
	for i, t := range []**G.Node{&m.t1, &m.t2} {
		if *t, err = lateInput(after, fmt.Sprintf("byol/target%d", i+1), []int{n, m.cfg.Dim}, func(dst []float32) error {
			outs, err := m.pass.wait()
			if err == nil {
				copy(dst, outs[i])
			}
			return err
		}); err != nil {
			return err
		}
	}
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

// Bind feeds view 1 and view 2 to the online network's two passes and starts the target's
// projections of both (keyPass), which the target nodes wait for.
func (m *BYOL) Bind(b *data.Batch, _ int) error {
	var views [2][]float32
	for i, in := range []*importer.Model{m.online, m.twin} {
		v, err := m.view(b, i)
		if err != nil {
			return err
		}
		if err := m.bindInput(in, v); err != nil {
			return err
		}
		views[i] = v
	}
	m.pass.join()
	if err := m.mergeBefore(m.merge); err != nil {
		return err
	}
	m.pass = m.keyPassOf(func() ([][]float32, error) {
		var t [][]float32
		if err := m.targetOn(m.target); err != nil {
			return nil, err
		}
		for _, v := range views {
			outs, err := m.target.encode(v, nil)
			if err != nil {
				return nil, err
			}
			t = append(t, outs[0])
		}
		return t, nil
	})
	return nil
}

// AfterStep merges the two passes' BatchNorm statistics and moves the target by τ(step),
// after the online update as in byol_experiment.py.
func (m *BYOL) AfterStep(step int) error {
	m.pass.join()
	if err := m.mergeAfter(m.merge); err != nil {
		return err
	}
	return m.emaUpdate(m.ema, m.target, m.Tau(step))
}

// Checkpoint holds the online and the target network.
func (m *BYOL) Checkpoint() (map[string][]byte, error) {
	m.pass.join()
	return m.checkpointMomentum(m.target)
}

// Restore loads what Checkpoint wrote.
func (m *BYOL) Restore(files map[string][]byte) error {
	m.pass.join()
	return m.restoreMomentum(files, m.target)
}
