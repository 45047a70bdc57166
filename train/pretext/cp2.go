package pretext

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/ops"
)

// CP2 is Copy-Paste Contrastive Pretraining (Wang et al., ECCV 2022, arXiv:2203.11709;
// wangf3014/CP2): MoCo's query and momentum key networks on an encoder-decoder whose output
// map goes through a 1×1-conv projector to one L2-normalised vector per cell. Each image's
// two MoCo v2 views are pasted as foregrounds into rectangles of two other images' views
// (cp2_paste.go), so the foreground cells of both views are known. The loss (CP2Loss) is
// MoCo's InfoNCE on the foreground-pooled vectors plus DenseWeight times a dense loss that
// makes every foreground key cell pick out the query's foreground cells. After each step the
// pooled keys join the queue.
type CP2 struct {
	base
	cfg    CP2Config
	grid   data.Grid
	mom    *momentumNet
	queue  *Queue
	l      *cp2Loss
	k      *G.Node // [N, D, hw] key cells, filled after the online pass (lateInput)
	maskQ  *G.Node // [N, 1, hw]
	maskK  *G.Node
	pairW  *G.Node // [N, hw, hw]
	neg    *G.Node // [K, D]
	pass   *keyPass
	keys   []float32 // this step's normalised key cells, once the pass is done
	fresh  bool
	mq, mk []float32 // this step's masks [N, hw], for the monitors
}

// CP2Config is CP2's (builder.py, main.py, configs/config_pretrain.py). The embedded MoCo
// settings are the cell vectors' size (Dim, 128), the queue (65536), T (0.2), m (0.999) and
// the Shuffle BN chunks; Hidden is unused (the dense projector's hidden width is the
// decoder's).
type CP2Config struct {
	MoCoConfig
	DenseWeight float64    `json:"dense_weight"` // w of L_dense: 0.2 (main.py: loss_instance + loss_dense·0.2)
	PasteScale  [2]float64 `json:"paste_scale"`  // the pasted box's area fraction: (0.5, 0.8), RandomErasing's scale
	PasteRatio  [2]float64 `json:"paste_ratio"`  // its aspect ratio range: (0.8, 1.25)
}

// CP2Defaults returns CP2's settings at the given scale: MoCo v2's, with CP2's dense weight
// and paste boxes; at CPU scale MoCo's CPU queue, momentum and key chunks.
func CP2Defaults(s Scale) CP2Config {
	return CP2Config{MoCoConfig: MoCoDefaults(s), DenseWeight: 0.2,
		PasteScale: [2]float64{0.5, 0.8}, PasteRatio: [2]float64{0.8, 1.25}}
}

func (c *CP2Config) String() string {
	return fmt.Sprintf("cell dim %d, queue %d, temperature %g, momentum %g, key chunks %d (Shuffle BN); dense weight %g; pasted box %g–%g of the view, aspect %g–%g",
		c.Dim, c.Queue, c.Temperature, c.Momentum, c.KeyChunks, c.DenseWeight, c.PasteScale[0], c.PasteScale[1], c.PasteRatio[0], c.PasteRatio[1])
}

func (c *CP2Config) check() error {
	if err := c.MoCoConfig.check(); err != nil {
		return err
	}
	if !(c.DenseWeight >= 0) || math.IsInf(c.DenseWeight, 1) {
		return usagef("dense weight %v, want ≥ 0", c.DenseWeight)
	}
	if s := c.PasteScale; !(s[0] > 0 && s[0] <= s[1] && s[1] < 1) {
		return usagef("paste scale %v, want 0 < low ≤ high < 1 (fractions of the view's area)", s)
	}
	if r := c.PasteRatio; !(r[0] > 0 && r[0] <= r[1]) || math.IsInf(r[1], 1) {
		return usagef("paste ratio %v, want 0 < low ≤ high", r)
	}
	return nil
}

// cp2Views is CP2's data task: four views of each image — the two foreground views (MoCo
// v2's) and two more that serve as other images' backgrounds (CP2 draws its backgrounds
// from the same dataset with the same augmentation, from its own loaders).
type cp2Views struct{ fg, bg data.TwoViews }

func (t cp2Views) Item(s data.Sample, rng *rand.Rand) (*data.Item, error) {
	a, err := t.fg.Item(s, rng)
	if err != nil {
		return nil, err
	}
	b, err := t.bg.Item(s, rng)
	if err != nil {
		return nil, err
	}
	a.Views = append(a.Views, b.Views...)
	return a, nil
}

// NewCP2 returns CP2 on the encoder-decoder (Options.Net.Head, default MoCo's FCN at 1/16:
// CP2's ASPP head is graphs' deeplabv3plus without its 1/4 decoder, which graphs does not
// build alone).
func NewCP2(o Options, c CP2Config) (*CP2, error) {
	const method = "cp2"
	if err := c.check(); err != nil {
		return nil, inMethod(method, err)
	}
	task := cp2Views{fg: data.MoCoV2(o.Size), bg: data.MoCoV2(o.Size)}
	switch len(o.Views) {
	case 0:
	case 2, 4:
		if err := o.checkViews(); err != nil {
			return nil, inMethod(method, err)
		}
		task.fg = data.TwoViews{A: o.Views[0], B: o.Views[1]}
		task.bg = task.fg
		if len(o.Views) == 4 {
			task.bg = data.TwoViews{A: o.Views[2], B: o.Views[3]}
		}
	default:
		return nil, inMethod(method, usagef("%d view configs given, want 2 (foregrounds; backgrounds alike) or 4", len(o.Views)))
	}
	pt := graphs.Pretext{Dense: true, DenseDim: c.Dim, OnDecoder: true}
	b, err := newBase(method, o, true, task, pt, graphs.DenseProjection)
	if err != nil {
		return nil, err
	}
	return &CP2{base: b, cfg: c}, nil
}

// Config returns the method's hyper-parameters.
func (m *CP2) Config() CP2Config { return m.cfg }

// Build imports the query network at batch n and the key network at n/KeyChunks, and builds
// CP2's loss against the queue.
func (m *CP2) Build(n int) error {
	if n < 2 {
		return usagef("cp2: batch %d, want ≥ 2 (each image's background is another image of the batch)", n)
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
	d, hw := s[1], s[2]*s[3]
	flat, err := G.Reshape(dense, []int{n, d, hw})
	if err != nil {
		return errorf("cp2: %w", err)
	}
	q, err := ops.L2Normalize(flat, 1, normEps)
	if err != nil {
		return err
	}
	g := m.online.Graph
	if m.k, err = lateInput([]*G.Node{q}, "cp2/keys", []int{n, d, hw}, func(dst []float32) error {
		err := m.stepKeys()
		copy(dst, m.keys)
		return err
	}); err != nil {
		return err
	}
	m.maskQ = input(g, tensor.Float32, "cp2/mask_q", n, 1, hw)
	m.maskK = input(g, tensor.Float32, "cp2/mask_k", n, 1, hw)
	m.pairW = input(g, tensor.Float32, "cp2/pair_weights", n, hw, hw)
	m.neg = input(g, tensor.Float32, "cp2/queue", m.cfg.Queue, d)
	if m.l, err = CP2Loss(q, m.k, m.maskQ, m.maskK, m.pairW, m.neg, m.cfg.Temperature, m.cfg.DenseWeight); err != nil {
		return err
	}
	m.loss = m.l.loss
	m.parts["ins"], m.parts["dense"] = m.l.ins, m.l.dense
	if m.mom, err = m.newMomentumNet(mp, m.online, n, m.cfg.KeyChunks, m.opts.Size, m.opts.Seed, graphs.DenseProjection); err != nil {
		return inMethod(m.method, err)
	}
	m.queue, err = NewQueue(m.cfg.Queue, d, uint64(m.opts.Seed))
	return err
}

// Grid is the dense map's size, h×w cells per view (after Build).
func (m *CP2) Grid() data.Grid { return m.grid }

// Bind pastes this step's query and key images, gives the query network the first and the
// masks, and starts the key network's update and forward pass on the second.
func (m *CP2) Bind(b *data.Batch, step int) error {
	var views [4][]float32
	for i := range views {
		v, err := m.view(b, i)
		if err != nil {
			return err
		}
		views[i] = v
	}
	n, size := m.batch, m.opts.Size
	p := planPastes(m.opts.Seed, step, n, size, m.cfg.PasteScale, m.cfg.PasteRatio)
	imq := p.compose(0, views[0], views[2], n, size)
	imk := p.compose(1, views[1], views[3], n, size)
	m.mq, m.mk = p.cellMask(0, n, size, m.grid), p.cellMask(1, n, size, m.grid)
	w64, _ := cp2PairWeights(m.mq, m.mk, n, m.grid.H*m.grid.W)
	w := make([]float32, len(w64))
	for i, x := range w64 {
		w[i] = float32(x)
	}
	m.pass.join()
	if err := m.bindInput(m.online, imq); err != nil {
		return err
	}
	for _, in := range []struct {
		n *G.Node
		v []float32
	}{{m.maskQ, m.mq}, {m.maskK, m.mk}, {m.pairW, w}} {
		if err := bind(in.n, in.v); err != nil {
			return err
		}
	}
	if err := m.bindQueue(m.neg, m.queue); err != nil {
		return err
	}
	m.fresh = false
	m.pass = m.keyPassOf(func() ([][]float32, error) { return m.mom.encode(imk, step, m.cfg.Momentum) })
	return nil
}

// stepKeys normalises this step's key cells once the key pass has finished.
func (m *CP2) stepKeys() error {
	if m.fresh {
		return nil
	}
	outs, err := m.pass.wait()
	if err != nil {
		return err
	}
	m.keys = outs[0]
	normalizeCells(m.keys, m.cfg.Dim, m.grid.H*m.grid.W)
	m.fresh = true
	return nil
}

// AfterStep enqueues the pooled foreground keys k⁺ the loss used (builder.py enqueues k_pos).
func (m *CP2) AfterStep(int) error {
	if m.pass == nil {
		return errorf("cp2: AfterStep without a Bind before it")
	}
	if err := m.stepKeys(); err != nil {
		return err
	}
	kpos, err := nodeValues(m.l.kpos)
	if err != nil {
		return err
	}
	m.pass, m.fresh = nil, false
	return m.queue.Enqueue(append([]float32(nil), kpos...))
}

// Checkpoint holds the query network, the key network and the queue.
func (m *CP2) Checkpoint() (map[string][]byte, error) {
	m.pass.join()
	return m.checkpointMomentum(m.mom.network(), savedQueue{QueueFile, m.queue})
}

// Restore loads what Checkpoint wrote.
func (m *CP2) Restore(files map[string][]byte) error {
	m.pass.join()
	return m.restoreMomentum(files, m.mom.network(), savedQueue{QueueFile, m.queue})
}

// normalizeCells L2-normalises every cell of maps [n, d, hw] (each cell's d values are hw
// apart) in place, as ops.L2Normalize along axis 1 with normEps does.
func normalizeCells(v []float32, d, hw int) {
	col := make([]float32, d)
	for off := 0; off+d*hw <= len(v); off += d * hw {
		for c := 0; c < hw; c++ {
			for k := 0; k < d; k++ {
				col[k] = v[off+k*hw+c]
			}
			normalizeRow(col)
			for k := 0; k < d; k++ {
				v[off+k*hw+c] = col[k]
			}
		}
	}
}
