package pretext

import (
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
)

// SimSiam (arXiv:2011.10566; facebookresearch/simsiam): one network (encoder → projector →
// predictor) on two MoCo v2 views; each view's prediction regresses the other view's
// projection behind a stop-gradient, loss −½[cos(p1, sg z2) + cos(p2, sg z1)]. No negatives,
// no momentum network. Each view has its own forward pass (two imports sharing parameters),
// so its BatchNorm statistics are its own as in the official code.
type SimSiam struct {
	base
	cfg   SimSiamConfig
	twin  *importer.Model
	merge *bnMerge
	z1    *G.Node // the projection of view 1, for the collapse monitor
}

// NewSimSiam returns SimSiam.
func NewSimSiam(o Options, c SimSiamConfig) (*SimSiam, error) {
	if err := c.check(); err != nil {
		return nil, inMethod("simsiam", err)
	}
	views, err := o.twoViews(data.MoCoV2(o.Size))
	if err != nil {
		return nil, inMethod("simsiam", err)
	}
	pt := graphs.Pretext{Projector: graphs.ProjectorSimSiam, Dim: c.Dim, Hidden: c.Hidden, PredictorHidden: c.PredictorHidden}
	b, err := newBase("simsiam", o, false, views, pt, graphs.Projection, graphs.Prediction)
	if err != nil {
		return nil, err
	}
	return &SimSiam{base: b, cfg: c}, nil
}

// Config returns the method's hyper-parameters.
func (m *SimSiam) Config() SimSiamConfig { return m.cfg }

// Build imports the network once per view and builds the loss.
func (m *SimSiam) Build(n int) error {
	mp, err := m.buildOnline(n, n)
	if err != nil {
		return err
	}
	if m.twin, m.merge, err = importTwin(mp, m.online, n, m.opts.Size); err != nil {
		return err
	}
	o1, err := outputs(m.online, graphs.Projection, graphs.Prediction)
	if err != nil {
		return err
	}
	o2, err := outputs(m.twin, graphs.Projection, graphs.Prediction)
	if err != nil {
		return err
	}
	m.z1 = o1[0]
	m.loss, err = SimSiamLoss(o1[1], o1[0], o2[1], o2[0])
	return err
}

// Bind feeds view 1 and view 2 to the two passes.
func (m *SimSiam) Bind(b *data.Batch, _ int) error {
	for i, in := range []*importer.Model{m.online, m.twin} {
		v, err := m.view(b, i)
		if err != nil {
			return err
		}
		if err := m.bindInput(in, v); err != nil {
			return err
		}
	}
	if err := m.mergeBefore(m.merge); err != nil {
		return err
	}
	return nil
}

// AfterStep merges the two passes' BatchNorm statistics.
func (m *SimSiam) AfterStep(int) error {
	return m.mergeAfter(m.merge)
}

// Checkpoint holds the network.
func (m *SimSiam) Checkpoint() (map[string][]byte, error) {
	files := map[string][]byte{}
	return files, m.checkpointOnline(files)
}

// Restore loads what Checkpoint wrote.
func (m *SimSiam) Restore(files map[string][]byte) error { return m.restoreOnline(files) }
