package classify

import (
	"fmt"
	"math/rand/v2"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	"github.com/ssl4dp/ssl4dp/train"
)

// valBatch is how many val images one evaluation forward pass takes (the last pass is
// padded with zero images whose predictions are dropped).
const valBatch = 16

// Validating is a Task with a val source: only it is a train.Validator, so that a run
// without one records no validation.
type Validating struct{ *Task }

var _ train.Validator = Validating{}

// Validate is top-1 accuracy on the val source (aAcc) and its mean over the classes that
// occur there (mAcc), by an evaluation-mode forward pass (BatchNorm's running statistics)
// of the current weights on each whole image resized to the view size.
func (v Validating) Validate() (map[string]float64, error) {
	t := v.Task
	if t.val == nil {
		return nil, fmt.Errorf("classify: Validate without a val source")
	}
	if t.evalNet == nil {
		var err error
		if t.evalNet, err = t.buildEval(); err != nil {
			return nil, err
		}
	}
	if err := t.evalNet.model.CopyValuesFrom(t.model); err != nil {
		return nil, err
	}
	k, n := len(t.val.Classes), t.val.Data.Len()
	hits, seen := make([]int, k), make([]int, k)
	pipe := data.Pipeline{data.Resize{W: t.size, H: t.size}, data.Normalize{Mean: data.ImageNetMean, Std: data.ImageNetStd}}
	rng := rand.New(rand.NewPCG(0, 0)) // the steps are deterministic; Apply wants a source
	plane := 3 * t.size * t.size
	for start := 0; start < n; start += valBatch {
		end := min(start+valBatch, n)
		in := t.evalNet.in.Data().([]float32)
		clear(in)
		labels := make([]int, 0, end-start)
		for i := start; i < end; i++ {
			s, err := t.val.Data.Load(i)
			if err != nil {
				return nil, err
			}
			c, err := t.val.sampleLabel(s)
			if err != nil {
				return nil, err
			}
			v := &data.View{Image: s.Image, Geom: data.Identity(s.Image.W, s.Image.H)}
			if err := pipe.Apply(v, rng); err != nil {
				return nil, err
			}
			copy(in[(i-start)*plane:], v.Image.Pix)
			labels = append(labels, c)
		}
		logits, err := t.evalNet.run()
		if err != nil {
			return nil, err
		}
		for j, c := range labels {
			seen[c]++
			if argmax(logits[j*k:(j+1)*k]) == c {
				hits[c]++
			}
		}
	}
	total, right, classes, meanAcc := 0, 0, 0, 0.0
	for c := range seen {
		total += seen[c]
		right += hits[c]
		if seen[c] > 0 {
			classes++
			meanAcc += float64(hits[c]) / float64(seen[c])
		}
	}
	if total == 0 {
		return nil, fmt.Errorf("classify: the val source %s is empty", t.val.Data.Name())
	}
	return map[string]float64{train.KeyPixelAcc: float64(right) / float64(total), train.KeyMeanAcc: meanAcc / float64(classes)}, nil
}

// sampleLabel is a loaded sample's class: its folder, or its mask's dominant class.
func (s *Source) sampleLabel(smp data.Sample) (int, error) {
	if s.byFolder {
		return s.label(smp.ID, nil, 0)
	}
	if smp.Mask == nil {
		return 0, fmt.Errorf("classify: %s has no mask to take its class from", smp.ID)
	}
	return DominantClass(smp.Mask), nil
}

// evalNet is the classifier imported in evaluation mode at valBatch images.
type evalNet struct {
	model  *importer.Model
	vm     G.VM
	input  *G.Node
	logits *G.Node
	in     *tensor.Dense
}

func (t *Task) buildEval() (*evalNet, error) {
	shape := []int{valBatch, 3, t.size, t.size}
	m, err := importer.Import(t.proto, importer.Options{InputShapes: map[string][]int{graphs.Input: shape}})
	if err != nil {
		return nil, fmt.Errorf("classify: evaluation graph: %w", err)
	}
	in, err := m.Input(graphs.Input)
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	logits, err := m.Output(graphs.ClassLogits)
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	return &evalNet{model: m, vm: G.NewTapeMachine(m.Graph), input: in, logits: logits,
		in: tensor.New(tensor.WithShape(shape...), tensor.Of(tensor.Float32))}, nil
}

func (n *evalNet) run() ([]float32, error) {
	if err := G.Let(n.input, n.in); err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	n.vm.Reset()
	if err := n.vm.RunAll(); err != nil {
		return nil, fmt.Errorf("classify: evaluation forward pass: %w", err)
	}
	return slices.Clone(n.logits.Value().Data().([]float32)), nil
}
