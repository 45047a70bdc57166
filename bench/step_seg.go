package bench

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

// segStep is segmentation fine-tuning's step: graphs' encoder + head in training mode,
// logits resized to the input, cross-entropy over the pixels with label 255 ignored
// (PyTorch's F.cross_entropy(logits, labels, ignore_index=255)).
type segStep struct {
	model  *pb.ModelProto
	size   int
	seed   int64
	m      *importer.Model
	input  *G.Node
	labels *G.Node
	loss   *G.Node
	batch  int
}

// newSegStep builds c.Spec (with the logits as its only output) and measures its forward
// multiply-adds at c.Batch × 3 × c.Size × c.Size.
func newSegStep(c TrainConfig) (Step, Work, error) {
	spec := c.Spec
	spec.Outputs = []string{graphs.Logits}
	mp, err := graphs.Build(spec)
	if err != nil {
		return nil, Work{}, err
	}
	cost, err := graphs.Measure(mp, c.Batch, c.Size, c.Size)
	if err != nil {
		return nil, Work{}, err
	}
	return &segStep{model: mp, size: c.Size, seed: c.Seed}, Work{TrainedMACs: cost.MACs}, nil
}

func (s *segStep) Name() string { return "seg" }

// DataTask is the fine-tuning augmentation cropped to the benchmark's size.
func (s *segStep) DataTask() data.Task { return data.DefaultSegTrain(s.size) }

func (s *segStep) Build(batch int) error {
	m, err := importer.Import(s.model, importer.Options{
		InputShapes: map[string][]int{graphs.Input: {batch, 3, s.size, s.size}},
		Phase:       &ops.Phase{Training: true},
		Seed:        s.seed,
	})
	if err != nil {
		return fmt.Errorf("bench: seg: importing %s: %w", s.model.GetGraph().GetName(), err)
	}
	if s.input, err = m.Input(graphs.Input); err != nil {
		return err
	}
	logits, err := m.Output(graphs.Logits)
	if err != nil {
		return err
	}
	s.labels = G.NewTensor(m.Graph, tensor.Float32, 3, G.WithShape(batch, s.size, s.size), G.WithName("labels"))
	if s.loss, err = ops.SoftmaxCrossEntropy(logits, s.labels, data.Ignore); err != nil {
		return fmt.Errorf("bench: seg: loss: %w", err)
	}
	s.m, s.batch = m, batch
	return nil
}

func (s *segStep) Graph() *G.ExprGraph { return s.m.Graph }
func (s *segStep) Loss() *G.Node       { return s.loss }

func (s *segStep) Learnables() []importer.Param {
	var ps []importer.Param
	for _, p := range s.m.Params() {
		if !p.Frozen {
			ps = append(ps, p)
		}
	}
	return ps
}

// Bind sets the image and label inputs from view 0 and the batch's labels.
func (s *segStep) Bind(b *data.Batch, step int) error {
	img, lab := []int{s.batch, 3, s.size, s.size}, []int{s.batch, s.size, s.size}
	if len(b.Views) != 1 || !slices.Equal(b.Views[0].Shape, img) || b.Labels == nil || !slices.Equal(b.Labels.Shape, lab) {
		return fmt.Errorf("bench: seg: batch has %d views (first %v) and labels %v; want one view %v and labels %v", len(b.Views), viewShape(b), labelShape(b), img, lab)
	}
	if err := G.Let(s.input, tensor.New(tensor.WithShape(img...), tensor.WithBacking(b.Views[0].Data))); err != nil {
		return fmt.Errorf("bench: seg: input: %w", err)
	}
	if err := G.Let(s.labels, tensor.New(tensor.WithShape(b.Labels.Shape...), tensor.WithBacking(b.Labels.Data))); err != nil {
		return fmt.Errorf("bench: seg: labels: %w", err)
	}
	s.m.Phase.Step = int64(step)
	return nil
}

func (s *segStep) AfterStep(int) error { return nil }

func viewShape(b *data.Batch) []int {
	if len(b.Views) == 0 {
		return nil
	}
	return b.Views[0].Shape
}

func labelShape(b *data.Batch) []int {
	if b.Labels == nil {
		return nil
	}
	return b.Labels.Shape
}
