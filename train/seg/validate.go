package seg

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/evaluate"
	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	"github.com/ssl4dp/ssl4dp/train"
)

// ValidateScores is mIoU (and the rest of evaluate/metrics' scores) on the val split, by the
// evaluation protocol of package evaluate with an evaluation-mode Gorgonia forward pass of
// the current weights — what `ssl4dp evaluate` computes with onnxruntime on the exported
// model.
func (t *Task) ValidateScores() (metrics.Scores, error) {
	res, err := evaluate.Run(t.val, t.forward, evaluate.Options{Batch: t.cfg.ValBatch, Size: t.cfg.ValSize, Limit: t.cfg.ValLimit})
	if err != nil {
		return metrics.Scores{}, err
	}
	return res.Scores, nil
}

// Validate is ValidateScores as the engine's plain map.
func (t *Task) Validate() (map[string]float64, error) {
	s, err := t.ValidateScores()
	if err != nil {
		return nil, err
	}
	return map[string]float64{train.KeyMIoU: s.MIoU, train.KeyMeanAcc: s.MeanAcc, train.KeyPixelAcc: s.PixelAcc}, nil
}

// forward is the evaluate.Forward of the current weights.
func (t *Task) forward(images data.Tensor) (data.Tensor, error) {
	net, err := t.evals.get(images.Shape)
	if err != nil {
		return data.Tensor{}, err
	}
	return net.run(images)
}

// evalNet is the model imported in evaluation mode for one input shape.
type evalNet struct {
	shape  []int
	model  *importer.Model
	vm     G.VM
	input  *G.Node
	logits *G.Node
	inT    *tensor.Dense
	steps  int // Task.steps when the weights were last copied in
}

// evalCache keeps the most recently used evaluation graphs (one per input shape: Gorgonia
// graphs are static), copying the training graph's weights into one before it runs whenever
// they have changed.
type evalCache struct {
	t    *Task
	max  int
	nets []*evalNet // least recently used first
}

func newEvalCache(t *Task, max int) *evalCache { return &evalCache{t: t, max: max} }

func (c *evalCache) get(shape []int) (*evalNet, error) {
	if len(shape) != 4 || shape[1] != 3 {
		return nil, fmt.Errorf("seg: validation batch of shape %v, want [N,3,H,W]", shape)
	}
	var net *evalNet
	for i, n := range c.nets {
		if slices.Equal(n.shape, shape) {
			net = n
			c.nets = append(c.nets[:i], c.nets[i+1:]...)
			break
		}
	}
	if net == nil {
		var err error
		if net, err = c.build(shape); err != nil {
			return nil, err
		}
		if len(c.nets) == c.max {
			c.nets[0].vm.Close()
			c.nets = c.nets[1:]
		}
	}
	c.nets = append(c.nets, net)
	if net.steps != c.t.steps {
		if err := net.model.CopyValuesFrom(c.t.model); err != nil {
			return nil, err
		}
		net.steps = c.t.steps
	}
	return net, nil
}

func (c *evalCache) build(shape []int) (*evalNet, error) {
	st := c.t.start
	m, err := importer.Import(st.proto, importer.Options{InputShapes: map[string][]int{st.input: shape}})
	if err != nil {
		return nil, fmt.Errorf("seg: evaluation graph for %v: %w", shape, err)
	}
	in, err := m.Input(st.input)
	if err != nil {
		return nil, fmt.Errorf("seg: %w", err)
	}
	logits, err := m.Output(st.output)
	if err != nil {
		return nil, fmt.Errorf("seg: %w", err)
	}
	return &evalNet{shape: slices.Clone(shape), model: m, vm: G.NewTapeMachine(m.Graph), input: in, logits: logits,
		inT: tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32)), steps: -1}, nil
}

func (n *evalNet) run(images data.Tensor) (data.Tensor, error) {
	copy(n.inT.Data().([]float32), images.Data)
	if err := G.Let(n.input, n.inT); err != nil {
		return data.Tensor{}, fmt.Errorf("seg: %w", err)
	}
	n.vm.Reset()
	if err := n.vm.RunAll(); err != nil {
		return data.Tensor{}, fmt.Errorf("seg: evaluation forward pass: %w", err)
	}
	v := n.logits.Value()
	out := data.Tensor{Shape: slices.Clone([]int(v.Shape())), Data: slices.Clone(v.Data().([]float32))}
	return out, nil
}
