package pretext

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
)

// PLR is patch-level rotation: one view (MoCo v2's crop and flip, no colour change) is cut
// into Grid×Grid patches, each turned by 0, 90, 180 or 270° independently; the
// encoder-decoder (Options.Net.Head, default MoCo's FCN) ends in a 1×1 conv to 4 classes,
// resized to the input, and per-pixel cross-entropy asks it for every pixel's turn.
type PLR struct {
	base
	cfg    PLRConfig
	labels *G.Node
	logits *G.Node   // [n, 4, size, size], for the rotation monitor
	turns  []float32 // the value bound to labels
}

// NewPLR returns PLR.
func NewPLR(o Options, c PLRConfig) (*PLR, error) {
	if err := c.check(); err != nil {
		return nil, inMethod("plr", err)
	}
	task := data.DefaultPLR(o.Size)
	task.Grid = c.Grid
	switch len(o.Views) {
	case 0:
	case 1:
		if err := o.checkViews(); err != nil {
			return nil, inMethod("plr", err)
		}
		task.View = o.Views[0]
	default:
		return nil, usagef("plr: %d view configs given, want 1", len(o.Views))
	}
	if o.Size%c.Grid != 0 {
		return nil, usagef("plr: view size %d is not a multiple of the grid %d (patches must be square to turn)", o.Size, c.Grid)
	}
	b, err := newBase("plr", o, true, task, graphs.Pretext{Rotation: true}, graphs.RotationLogits)
	if err != nil {
		return nil, err
	}
	return &PLR{base: b, cfg: c}, nil
}

// Config returns the method's hyper-parameters.
func (m *PLR) Config() PLRConfig { return m.cfg }

// Build imports the encoder-decoder with its rotation head and builds the loss.
func (m *PLR) Build(n int) error {
	if _, err := m.buildOnline(n, n); err != nil {
		return err
	}
	logits, err := m.online.Output(graphs.RotationLogits)
	if err != nil {
		return errorf("%w", err)
	}
	m.labels = input(m.online.Graph, tensor.Float32, "plr/turns", n, m.opts.Size, m.opts.Size)
	m.logits = logits
	m.loss, err = RotationLoss(logits, m.labels)
	return err
}

// Bind feeds the turned view and its per-pixel turns.
func (m *PLR) Bind(b *data.Batch, _ int) error {
	v, err := m.view(b, 0)
	if err != nil {
		return err
	}
	if err := m.bindInput(m.online, v); err != nil {
		return err
	}
	if b.Labels == nil || len(b.Labels.Data) != m.labels.Shape().TotalSize() {
		return errorf("plr: batch has no per-pixel turns of shape %v (labels %v)", m.labels.Shape(), labelShape(b))
	}
	m.turns = b.Labels.Data
	return bind(m.labels, b.Labels.Data)
}

func labelShape(b *data.Batch) any {
	if b.Labels == nil {
		return "absent"
	}
	return b.Labels.Shape
}

// AfterStep has nothing to do.
func (m *PLR) AfterStep(int) error { return nil }

// Checkpoint holds the network.
func (m *PLR) Checkpoint() (map[string][]byte, error) {
	files := map[string][]byte{}
	return files, m.checkpointOnline(files)
}

// Restore loads what Checkpoint wrote.
func (m *PLR) Restore(files map[string][]byte) error { return m.restoreOnline(files) }
