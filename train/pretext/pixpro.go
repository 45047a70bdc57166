package pretext

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
)

// PixPro (Xie et al., arXiv:2011.10043; zdaxie/PixPro contrast/models/PixPro.py): BYOL's
// two asymmetric views, an online network (encoder → per-pixel projector → pixel propagation
// module) and a momentum target (encoder → projector, τ from τ_base to 1 along a cosine).
// Pixel i of one view and pixel j of the other are a positive pair when their centres lie
// close in the source image (PixProWeights); the loss pulls the propagated online pixel
// towards the target's projection of its partners, both ways (PixProLoss). No negatives.
// With InstanceWeight > 0, BYOL's image-level loss on a pooled projector and predictor is
// added (PixPro's instance branch).
type PixPro struct {
	base
	cfg    PixProConfig
	grid   data.Grid
	twin   *importer.Model
	merge  *bnMerge
	target *keyNet
	ema    *EMA
	pass   *keyPass // this step's target outputs for both views, started by Bind

	t1, t2   *G.Node // the target's normalised maps [N, C, hw] (late)
	w12, w21 *G.Node // positive-pair weights [N, hw, hw]
	wv12     []float32
	y1       *G.Node // view 1's propagated map, for the monitors
	x1       *G.Node // view 1's online projection [N, C, h, w], for the collapse monitor
	count    []int   // positive pairs per image this step
	outNames []string
}

// NewPixPro returns PixPro. Options.Steps sets the length of the τ schedule.
func NewPixPro(o Options, c PixProConfig) (*PixPro, error) {
	if err := c.check(); err != nil {
		return nil, inMethod("pixpro", err)
	}
	v := data.BYOLViews(o.Size)
	views, err := o.twoViews(data.TwoViews{A: v[0], B: v[1]})
	if err != nil {
		return nil, inMethod("pixpro", err)
	}
	pt := graphs.Pretext{Dense: true, PixPro: true, DenseDim: c.Dim, DenseHidden: c.Hidden}
	outs := []string{graphs.DenseProjection, graphs.PPMValue}
	if c.InstanceWeight > 0 {
		pt.Projector, pt.Dim, pt.Hidden = graphs.ProjectorBYOL, c.Dim, c.Hidden
		outs = append(outs, graphs.Projection, graphs.Prediction)
	}
	b, err := newBase("pixpro", o, false, views, pt, outs...)
	if err != nil {
		return nil, err
	}
	return &PixPro{base: b, cfg: c, outNames: outs}, nil
}

// Config returns the method's hyper-parameters.
func (m *PixPro) Config() PixProConfig { return m.cfg }

// Tau is the target momentum used after step k.
func (m *PixPro) Tau(k int) float64 { return byolTau(m.cfg.TauBase, k, m.opts.Steps) }

// Build imports the online network for each view, the target network, and the loss.
func (m *PixPro) Build(n int) error {
	mp, err := m.buildOnline(n, n)
	if err != nil {
		return err
	}
	if m.twin, m.merge, err = importTwin(mp, m.online, n, m.opts.Size); err != nil {
		return err
	}
	var ys [2]*G.Node
	var after []*G.Node
	for i, net := range []*importer.Model{m.online, m.twin} {
		o, err := outputs(net, m.outNames...)
		if err != nil {
			return err
		}
		if i == 0 {
			s := o[0].Shape()
			m.grid = data.Grid{H: s[2], W: s[3]}
			m.x1 = o[0]
		}
		if ys[i], err = PixelPropagation(o[0], o[1]); err != nil {
			return err
		}
		after = append(after, ys[i])
		if len(o) > 2 {
			after = append(after, o[3])
		}
	}
	m.y1 = ys[0]
	g, d, hw := m.online.Graph, m.cfg.Dim, m.grid.H*m.grid.W
	for i, t := range []**G.Node{&m.t1, &m.t2} {
		if *t, err = lateInput(after, fmt.Sprintf("pixpro/target%d", i+1), []int{n, d, hw}, func(dst []float32) error {
			outs, err := m.pass.wait()
			if err == nil {
				copy(dst, outs[2*i])
			}
			return err
		}); err != nil {
			return err
		}
	}
	m.w12 = input(g, tensor.Float32, "pixpro/w12", n, hw, hw)
	m.w21 = input(g, tensor.Float32, "pixpro/w21", n, hw, hw)
	pl, err := PixProLoss(ys[0], m.t2, m.w12, ys[1], m.t1, m.w21)
	if err != nil {
		return err
	}
	m.loss = pl
	if m.cfg.InstanceWeight > 0 {
		if err := m.buildInstance(n, pl, after); err != nil {
			return err
		}
	}
	targetOuts := []string{graphs.DenseProjection}
	if m.cfg.InstanceWeight > 0 {
		targetOuts = append(targetOuts, graphs.Projection)
	}
	if m.target, err = newKeyNet(mp, n, m.opts.Size, targetOuts...); err != nil {
		return err
	}
	if m.ema, err = NewEMA(m.target.m, m.online); err != nil {
		return err
	}
	return m.ema.Copy()
}

// buildInstance adds InstanceWeight × BYOL's loss between each view's online prediction and
// the target's projection of the other view.
func (m *PixPro) buildInstance(n int, pl *G.Node, after []*G.Node) error {
	var p [2]*G.Node
	for i, net := range []*importer.Model{m.online, m.twin} {
		var err error
		if p[i], err = net.Output(graphs.Prediction); err != nil {
			return errorf("%w", err)
		}
	}
	var t [2]*G.Node
	for i := range t {
		var err error
		if t[i], err = lateInput(after, fmt.Sprintf("pixpro/instance_target%d", i+1), []int{n, m.cfg.Dim}, func(dst []float32) error {
			outs, err := m.pass.wait()
			if err == nil {
				copy(dst, outs[2*i+1])
			}
			return err
		}); err != nil {
			return err
		}
	}
	il, err := BYOLLoss(p[0], t[1], p[1], t[0])
	if err != nil {
		return err
	}
	if m.loss, err = weightedSum(m.online.Graph, "pixpro", []*G.Node{pl, il}, []float64{1, m.cfg.InstanceWeight}); err != nil {
		return err
	}
	m.parts["pixel"], m.parts["instance"] = pl, il
	return nil
}

// Bind feeds the two views to the online network's two passes, binds the positive pairs of
// their crops, and starts the target's pass on both views (keyPass): per view its
// normalised per-pixel projection [N, C, hw] (and, with the instance branch, its projection).
func (m *PixPro) Bind(b *data.Batch, _ int) error {
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
	if len(b.Geoms) < 2 {
		return errorf("%s: batch has geometries for %d views, want 2 (to find positive pixels)", m.method, len(b.Geoms))
	}
	w12, count, err := PixProWeights(b.Geoms[0], b.Geoms[1], m.grid, m.grid, m.cfg.PosThreshold)
	if err != nil {
		return err
	}
	w21, _, err := PixProWeights(b.Geoms[1], b.Geoms[0], m.grid, m.grid, m.cfg.PosThreshold)
	if err != nil {
		return err
	}
	if len(w12) != m.w12.Shape().TotalSize() {
		return errorf("%s: %d geometry pairs for a batch of %d", m.method, len(b.Geoms[0]), m.batch)
	}
	if err := bind(m.w12, w12); err != nil {
		return err
	}
	if err := bind(m.w21, w21); err != nil {
		return err
	}
	m.wv12, m.count = w12, count
	m.pass.join()
	if err := m.mergeBefore(m.merge); err != nil {
		return err
	}
	d, hw := m.cfg.Dim, m.grid.H*m.grid.W
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
			t = append(t, normalizeMaps(outs[0], d, hw))
			if len(outs) > 1 {
				t = append(t, outs[1])
			} else {
				t = append(t, nil)
			}
		}
		return t, nil
	})
	return nil
}

// normalizeMaps L2-normalises every pixel of maps [N, d, hw] over d, in place.
func normalizeMaps(v []float32, d, hw int) []float32 {
	col := make([]float32, d)
	for off := 0; off+d*hw <= len(v); off += d * hw {
		for p := 0; p < hw; p++ {
			for k := range col {
				col[k] = v[off+k*hw+p]
			}
			normalizeRow(col)
			for k := range col {
				v[off+k*hw+p] = col[k]
			}
		}
	}
	return v
}

// AfterStep merges the two passes' BatchNorm statistics and moves the target by τ(step),
// after the online update (PixPro.py's _momentum_update runs before the forward of the next
// step, with the same momentum sequence).
func (m *PixPro) AfterStep(step int) error {
	m.pass.join()
	if err := m.mergeAfter(m.merge); err != nil {
		return err
	}
	return m.emaUpdate(m.ema, m.target, m.Tau(step))
}

// Checkpoint holds the online and the target network.
func (m *PixPro) Checkpoint() (map[string][]byte, error) {
	m.pass.join()
	return m.checkpointMomentum(m.target)
}

// Restore loads what Checkpoint wrote.
func (m *PixPro) Restore(files map[string][]byte) error {
	m.pass.join()
	return m.restoreMomentum(files, m.target)
}
