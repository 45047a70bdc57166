package classify

import (
	"fmt"
	"io"
	"math"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/pretext"
	"github.com/ssl4dp/ssl4dp/train/runlog"
	"github.com/ssl4dp/ssl4dp/train/seg"
)

// The files of a run (the pretext methods' names: `train seg --init RUN/encoder.onnx`).
const (
	ModelFile   = pretext.ModelFile   // encoder + classifier, BatchNorm statistics included
	EncoderFile = pretext.EncoderFile // the encoder alone: input → features, low_level
)

// Net is the classifier's network: a ResNet encoder at an output stride (32, the
// classification network; the weights are the same at 16 or 8) and torchvision's fc.
type Net struct {
	Encoder      graphs.Encoder
	Width        float64
	OutputStride int
}

// Task is supervised classification as a train.Task: cross-entropy over the classes of a
// Source, a top1 monitor on the training batch, and, given a val Source, top-1 accuracy on
// it (Validating: aAcc, and the mean over classes as mAcc).
type Task struct {
	net     Net
	size    int
	seed    int64
	src     *Source
	val     *Source
	proto   *pb.ModelProto
	report  seg.InitReport
	batch   int
	phase   *ops.Phase
	model   *importer.Model
	input   *G.Node
	labels  *G.Node
	logits  *G.Node
	loss    *G.Node
	lab     []float32
	steps   int
	evalNet *evalNet
}

var (
	_ train.Task         = (*Task)(nil)
	_ train.Monitorer    = (*Task)(nil)
	_ train.HeadPrefixer = (*Task)(nil)
)

// New builds the classifier for src's classes at size-pixel views, with init's values by
// name (nil: random); val may be nil.
func New(net Net, size int, seed int64, src, val *Source, init *pb.ModelProto, initFrom string) (*Task, error) {
	if size < 16 {
		return nil, usagef("--size %d, want at least 16 pixels", size)
	}
	if val != nil && !slices.Equal(val.Classes, src.Classes) {
		return nil, usagef("--val %s has classes %v, --data %s has %v; want the same classes", val.Data.Name(), val.Classes, src.Data.Name(), src.Classes)
	}
	if net.OutputStride == 0 {
		net.OutputStride = 32
	}
	mp, err := graphs.Build(net.spec(len(src.Classes), seed, graphs.ClassLogits))
	if err != nil {
		return nil, err
	}
	t := &Task{net: net, size: size, seed: seed, src: src, val: val, proto: mp}
	if init != nil {
		if t.report, err = seg.LoadInit(mp, init, initFrom); err != nil {
			return nil, &UsageError{Msg: err.Error()}
		}
	}
	return t, nil
}

func (n Net) spec(classes int, seed int64, outputs ...string) graphs.Spec {
	return graphs.Spec{Encoder: n.Encoder, OutputStride: n.OutputStride, Width: n.Width, Head: graphs.HeadClassifier,
		Classes: classes, Seed: seed, Outputs: outputs}
}

// InitReport says what --init loaded.
func (t *Task) InitReport() seg.InitReport { return t.report }

// Name is "classify".
func (t *Task) Name() string { return "classify" }

// DataTask is random-resized-crop and flip at the view size, with the label.
func (t *Task) DataTask() data.Task {
	return itemTask{pipe: trainView(t.size).Pipeline(), fromMask: !t.src.byFolder}
}

// Build imports the classifier in training mode for batches of n and builds its loss.
func (t *Task) Build(n int) error {
	if t.model != nil {
		return fmt.Errorf("classify: Build called twice")
	}
	t.batch, t.phase = n, &ops.Phase{Training: true}
	m, err := importer.Import(t.proto, importer.Options{InputShapes: map[string][]int{graphs.Input: {n, 3, t.size, t.size}},
		Phase: t.phase, Seed: t.seed})
	if err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	t.model = m
	if t.input, err = m.Input(graphs.Input); err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	if t.logits, err = m.Output(graphs.ClassLogits); err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	t.lab = make([]float32, n)
	t.labels = G.NewTensor(m.Graph, tensor.Float32, 1, G.WithShape(n), G.WithName("classify/labels"))
	t.loss, err = ops.SoftmaxCrossEntropy(t.logits, t.labels, -1)
	return err
}

func (t *Task) Graph() *G.ExprGraph       { return t.model.Graph }
func (t *Task) Loss() *G.Node             { return t.loss }
func (t *Task) Parts() map[string]*G.Node { return nil }
func (t *Task) HeadPrefixes() []string    { return []string{"fc."} }
func (t *Task) AfterStep(int) error       { return nil }

// Learnables are the model's trainable parameters.
func (t *Task) Learnables() []importer.Param {
	var ps []importer.Param
	for _, p := range t.model.Params() {
		if !p.Frozen {
			ps = append(ps, p)
		}
	}
	return ps
}

// Bind sets the batch's views and labels.
func (t *Task) Bind(b *data.Batch, step int) error {
	if len(b.Views) != 1 {
		return fmt.Errorf("classify: batch of %d views, want 1", len(b.Views))
	}
	if want := []int{t.batch, 3, t.size, t.size}; !slices.Equal(b.Views[0].Shape, want) {
		return fmt.Errorf("classify: batch of shape %v, want %v", b.Views[0].Shape, want)
	}
	var mask []float32
	if b.Labels != nil {
		mask = b.Labels.Data
	}
	for i, id := range b.IDs {
		c, err := t.src.label(id, mask, i)
		if err != nil {
			return err
		}
		t.lab[i] = float32(c)
	}
	if err := G.Let(t.input, tensor.New(tensor.WithShape(t.batch, 3, t.size, t.size), tensor.WithBacking(b.Views[0].Data))); err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	if err := G.Let(t.labels, tensor.New(tensor.WithShape(t.batch), tensor.WithBacking(t.lab))); err != nil {
		return fmt.Errorf("classify: %w", err)
	}
	t.phase.Training, t.phase.Step = true, int64(step)
	t.steps++
	return nil
}

// KeepNodes is what Monitors reads after the pass: the memory plan keeps the logits
// (train.Keeper).
func (t *Task) KeepNodes() G.Nodes { return G.Nodes{t.logits} }

// Monitors is the training batch's top-1 accuracy (before the update; chance 1/classes).
func (t *Task) Monitors() ([]runlog.Monitor, error) {
	if ops.Transient(t.logits) {
		return nil, fmt.Errorf("classify: the logits are overwritten later in the pass under the memory plan (KeepNodes)")
	}
	v, ok := t.logits.Value().Data().([]float32)
	if !ok {
		return nil, fmt.Errorf("classify: monitors before a forward pass")
	}
	k := len(t.src.Classes)
	right := 0
	for i := 0; i < t.batch; i++ {
		if argmax(v[i*k:(i+1)*k]) == int(t.lab[i]) {
			right++
		}
	}
	return []runlog.Monitor{{Name: "top1", Value: float64(right) / float64(t.batch), Chance: 1 / float64(k), Line: true}}, nil
}

// argmax is the index of the largest value; −1 when it is tied or NaN (a tie counts as wrong).
func argmax(v []float32) int {
	best, at, tied := float32(math.Inf(-1)), -1, false
	for i, x := range v {
		switch {
		case x != x:
			return -1
		case x > best:
			best, at, tied = x, i, false
		case x == best:
			tied = true
		}
	}
	if tied {
		return -1
	}
	return at
}

// Checkpoint is the model with its trained values and BatchNorm statistics.
func (t *Task) Checkpoint() (map[string][]byte, error) {
	mp, err := t.model.WriteBack()
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	b, err := onnx.Encode(mp)
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	return map[string][]byte{ModelFile: b}, nil
}

// Restore loads a checkpoint's model values.
func (t *Task) Restore(files map[string][]byte) error {
	if err := pretext.RestoreModel(t.model, files[ModelFile], ModelFile); err != nil {
		return err
	}
	t.steps++
	return nil
}

// Outputs are model.onnx and encoder.onnx (graphs' encoder with the trained values).
func (t *Task) Outputs() (map[string][]byte, error) {
	trained, err := t.model.WriteBack()
	if err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	files := map[string][]byte{}
	if files[ModelFile], err = onnx.Encode(trained); err != nil {
		return nil, fmt.Errorf("classify: %w", err)
	}
	enc := graphs.Spec{Encoder: t.net.Encoder, OutputStride: t.net.OutputStride, Width: t.net.Width, Seed: t.seed,
		Outputs: []string{graphs.Features, graphs.LowLevel}}
	if files[EncoderFile], err = pretext.Extract(trained, enc); err != nil {
		return nil, err
	}
	return files, nil
}

// Describe prints the network, data and classes for the start of a run.
func (t *Task) Describe(log io.Writer) {
	fmt.Fprintf(log, "classify: %s width %g, output stride %d, fc → %d classes; %d-pixel random-resized crops (8–100%% of the area) and flips of %s\n",
		t.net.Encoder, t.net.Width, t.net.OutputStride, len(t.src.Classes), t.size, t.src.Data.Name())
	how := "the first-level sub-folders"
	if !t.src.byFolder {
		how = "each image's dominant mask class (background when it shows none)"
	}
	fmt.Fprintf(log, "classify: classes from %s: %s\n", how, summarize(t.src.Classes))
	if t.val != nil {
		fmt.Fprintf(log, "classify: validation: top-1 on %s (%d images; aAcc = top-1, mAcc = mean over classes)\n", t.val.Data.Name(), t.val.Data.Len())
	}
}

func summarize(cs []string) string {
	if len(cs) <= 8 {
		return fmt.Sprint(cs)
	}
	return fmt.Sprintf("%v … %v (%d)", cs[:4], cs[len(cs)-2:], len(cs))
}
