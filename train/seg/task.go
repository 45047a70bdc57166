package seg

import (
	"fmt"
	"io"
	"slices"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/train"
)

// ModelFile is the trained segmentation model in checkpoints and in the run folder.
const ModelFile = "model.onnx"

// Task is segmentation fine-tuning as a train.Task: per-pixel cross-entropy (label 255
// ignored, mean over the counted pixels) on random scale-crop-flip crops, validated by mIoU
// on the val split.
type Task struct {
	cfg     Config
	start   *startModel
	classes []string
	val     data.Dataset
	// Init is what --init loaded (nil without --init).
	Init *InitReport

	batch  int
	phase  *ops.Phase
	model  *importer.Model
	input  *G.Node
	labels *G.Node
	loss   *G.Node
	inT    *tensor.Dense
	labT   *tensor.Dense
	steps  int // Bind calls: the eval networks copy the weights when it changed
	evals  *evalCache
}

var (
	_ train.Task           = (*Task)(nil)
	_ train.ScoreValidator = (*Task)(nil)
	_ train.HeadPrefixer   = (*Task)(nil)
)

// New prepares the task for the training split's classes: it builds (or reads) the model and
// applies cfg.Init, printing the init report to log. val is the split Validate scores.
func New(cfg Config, trainSet, val data.Dataset, log io.Writer) (*Task, error) {
	classes := trainSet.Classes()
	if len(classes) == 0 {
		return nil, inputErrorf("%s has no labels; segmentation needs a labelled dataset (voc:, seg:, synthetic, cutpaste:)", trainSet.Name())
	}
	if val == nil {
		return nil, fmt.Errorf("seg: no validation split")
	}
	if vc := val.Classes(); !slices.Equal(vc, classes) {
		return nil, inputErrorf("the val split has classes %v, the train split %v", vc, classes)
	}
	if cfg.Crop < 8 {
		return nil, inputErrorf("--crop %d, want at least 8 pixels", cfg.Crop)
	}
	start, err := newStartModel(cfg, len(classes))
	if err != nil {
		return nil, err
	}
	t := &Task{cfg: cfg, start: start, classes: classes, val: val}
	if cfg.Init != "" {
		ip, err := onnx.ReadFile(cfg.Init)
		if err != nil {
			return nil, err
		}
		rep, err := LoadInit(start.proto, ip, cfg.Init)
		if err != nil {
			return nil, err
		}
		t.Init = &rep
		if log != nil {
			fmt.Fprint(log, rep.String())
		}
	}
	return t, nil
}

// Name is "seg".
func (t *Task) Name() string { return "seg" }

// DataTask is mmseg's training augmentation at the crop size: random scale 0.5–2, crop with
// label padding, flip, ImageNet normalisation.
func (t *Task) DataTask() data.Task { return data.DefaultSegTrain(t.cfg.Crop) }

// Build imports the model for batches of batch crops, in training mode, with the
// cross-entropy loss on its logits.
func (t *Task) Build(batch int) error {
	c := t.cfg.Crop
	t.batch = batch
	t.phase = &ops.Phase{Training: true}
	m, err := importer.Import(t.start.proto, importer.Options{InputShapes: map[string][]int{t.start.input: {batch, 3, c, c}},
		Phase: t.phase, Seed: t.cfg.Seed})
	if err != nil {
		return fmt.Errorf("seg: %w", err)
	}
	logits, err := m.Output(t.start.output)
	if err != nil {
		return fmt.Errorf("seg: %w", err)
	}
	if err := checkLogits(logits.Shape(), batch, len(t.classes), c); err != nil {
		return err
	}
	t.model = m
	if t.input, err = m.Input(t.start.input); err != nil {
		return fmt.Errorf("seg: %w", err)
	}
	t.inT = tensor.New(tensor.WithShape(batch, 3, c, c), tensor.Of(tensor.Float32))
	t.labT = tensor.New(tensor.WithShape(batch, c, c), tensor.Of(tensor.Float32))
	t.labels = G.NewTensor(m.Graph, tensor.Float32, 3, G.WithShape(batch, c, c), G.WithName("seg/labels"), G.WithValue(t.labT))
	if t.loss, err = ops.SoftmaxCrossEntropy(logits, t.labels, data.Ignore); err != nil {
		return fmt.Errorf("seg: %w", err)
	}
	t.evals = newEvalCache(t, 4)
	return nil
}

// checkLogits says what is wrong with a model's logits shape for this data.
func checkLogits(s []int, n, classes, size int) error {
	switch {
	case len(s) != 4:
		return inputErrorf("the model's output has shape %v, want logits [N,K,H,W]", s)
	case s[1] != classes:
		return inputErrorf("the model predicts %d classes, the dataset has %d", s[1], classes)
	case s[0] != n || s[2] != size || s[3] != size:
		return inputErrorf("the model's logits are %v for input [%d,3,%d,%d]; want them resized to the input size", s, n, size, size)
	}
	return nil
}

// Graph is the training graph.
func (t *Task) Graph() *G.ExprGraph { return t.model.Graph }

// Loss is the mean cross-entropy over the batch's labelled pixels.
func (t *Task) Loss() *G.Node { return t.loss }

// Parts is empty: the loss has one term.
func (t *Task) Parts() map[string]*G.Node { return nil }

// Learnables are every trainable initializer of the model.
func (t *Task) Learnables() []importer.Param {
	var ps []importer.Param
	for _, p := range t.model.Params() {
		if !p.Frozen {
			ps = append(ps, p)
		}
	}
	return ps
}

// HeadPrefixes are "head." for graphs/ models (the rest is the encoder, trained at
// --encoder-lr-mult).
func (t *Task) HeadPrefixes() []string { return t.start.heads }

// Bind copies the batch's crops and labels into the graph's inputs.
func (t *Task) Bind(b *data.Batch, step int) error {
	c := t.cfg.Crop
	if len(b.Views) != 1 || b.Labels == nil {
		return fmt.Errorf("seg: batch of %d views (labels %v), want one labelled view", len(b.Views), b.Labels != nil)
	}
	if want := []int{t.batch, 3, c, c}; !slices.Equal(b.Views[0].Shape, want) {
		return fmt.Errorf("seg: batch of shape %v, want %v", b.Views[0].Shape, want)
	}
	copy(t.inT.Data().([]float32), b.Views[0].Data)
	copy(t.labT.Data().([]float32), b.Labels.Data)
	if err := G.Let(t.input, t.inT); err != nil {
		return fmt.Errorf("seg: %w", err)
	}
	if err := G.Let(t.labels, t.labT); err != nil {
		return fmt.Errorf("seg: %w", err)
	}
	t.phase.Training = true
	t.phase.Step = int64(step)
	t.steps++
	return nil
}

// AfterStep does nothing: fine-tuning has no state beside the weights.
func (t *Task) AfterStep(int) error { return nil }

// Checkpoint is the model with its trained values and BatchNorm statistics.
func (t *Task) Checkpoint() (map[string][]byte, error) {
	mp, err := t.model.WriteBack()
	if err != nil {
		return nil, fmt.Errorf("seg: %w", err)
	}
	b, err := onnx.Encode(mp)
	if err != nil {
		return nil, fmt.Errorf("seg: %w", err)
	}
	return map[string][]byte{ModelFile: b}, nil
}

// Restore loads a checkpoint's model values into the training graph.
func (t *Task) Restore(files map[string][]byte) error {
	b, ok := files[ModelFile]
	if !ok {
		return fmt.Errorf("seg: the checkpoint has no %s", ModelFile)
	}
	mp, err := onnx.Decode(b, ModelFile)
	if err != nil {
		return err
	}
	if err := loadValues(t.model, mp); err != nil {
		return err
	}
	t.steps++
	return nil
}

// Outputs is model.onnx: the trained segmentation model (training form: BatchNorm with its
// running statistics; `ssl4dp export` makes the inference form).
func (t *Task) Outputs() (map[string][]byte, error) { return t.Checkpoint() }

// InputError is a request this task cannot serve — an unlabelled dataset, a model for
// another class count, an --init file that matches nothing: bad input, exit code 2.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return "seg: " + e.Msg }

// ExitCode makes the CLI exit with 2, as for a bad flag.
func (e *InputError) ExitCode() int { return 2 }

func inputErrorf(format string, args ...any) error {
	return &InputError{Msg: fmt.Sprintf(format, args...)}
}
