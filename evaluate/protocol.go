// Package evaluate scores segmentation models on a labelled dataset. The protocol — how
// images are prepared, how logits become predictions, how pixels are counted — lives in one
// function, Run, so that validation during training (a Gorgonia forward pass) and
// `ssl4dp evaluate` (onnxruntime) report the same mIoU for the same weights:
//
//	ds, err := data.Open("voc:/data/VOC2012", data.Options{Split: "val"})
//	res, err := evaluate.Run(ds, func(images data.Tensor) (data.Tensor, error) {
//		… run the network on images [N,3,H,W]; return logits [N,K,H,W] …
//	}, evaluate.Options{Batch: 8})
//	fmt.Println(res.Scores.Table(res.Classes))
//
// # The protocol
//
//  1. Every image of the dataset, in index order, is prepared by data.SegEval: the whole
//     image at its own size (or resized to Options.Size × Options.Size), normalised with the
//     ImageNet mean and std unless Options gives others. No flips, no crops, no scales.
//  2. Consecutive images of the same prepared size share a forward call, up to
//     Options.Batch of them.
//  3. Each image's logits [K,h,w] are resized bilinearly to the original mask's size with
//     ONNX Resize's half_pixel rule (PyTorch's align_corners=False) — a no-op when the
//     network already answers at that size — then argmax gives the prediction (ties to the
//     lowest class).
//  4. The prediction and the original mask (label 255 ignored) are counted in one
//     confusion matrix over the whole split; evaluate/metrics turns it into mIoU, per-class
//     IoU, pixel accuracy and mean accuracy as mmseg defines them.
//
// Errors start with "evaluate:" and name the image; a forward pass that returns the wrong
// shape or a class count other than the dataset's is an error, not something to skip.
package evaluate

import (
	"errors"
	"fmt"
	"io"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
)

// Forward runs a segmentation network on a batch of prepared images [N,3,H,W] and returns
// its class scores [N,K,h,w] (any h×w: they are resized to each image's mask).
type Forward func(images data.Tensor) (logits data.Tensor, err error)

// Options tune Run. The zero value evaluates whole images one at a time with ImageNet
// normalisation.
type Options struct {
	// Size resizes every image to Size×Size before the forward pass (0: whole images at
	// their own size). Scores are still counted on the original masks.
	Size int
	// Batch is the most images per forward call (0: 1). Only images of the same prepared
	// size share a call, so whole-image evaluation of a dataset with varied sizes runs
	// mostly one image at a time.
	Batch int
	// Limit evaluates only the first Limit images (0: all).
	Limit int
	// Mean and Std normalise the images (both zero: data.ImageNetMean and ImageNetStd).
	Mean, Std [3]float32
	// Workers decode and prepare images in parallel (0: GOMAXPROCS); the result does not
	// depend on it.
	Workers int
	// Visit, if set, is called for every image in order with its prediction at the mask's
	// size (for overlays); an error stops the evaluation.
	Visit func(index int, id string, pred []int32, label *data.Mask) error
}

// Result is the outcome of Run.
type Result struct {
	Scores    metrics.Scores
	Confusion *metrics.Confusion
	Classes   []string // the dataset's class names, by label
	Images    int      // images evaluated
}

// Run evaluates fwd on every image of ds (a labelled dataset, usually a val split) with the
// protocol described in the package documentation.
func Run(ds data.Dataset, fwd Forward, o Options) (*Result, error) {
	if ds == nil || fwd == nil {
		return nil, fmt.Errorf("evaluate: nil dataset or forward function")
	}
	classes := ds.Classes()
	if len(classes) == 0 {
		return nil, fmt.Errorf("evaluate: %s has no labels; evaluation needs a segmentation dataset", ds.Name())
	}
	if o.Size < 0 || o.Batch < 0 || o.Limit < 0 {
		return nil, fmt.Errorf("evaluate: size %d, batch %d, limit %d: want values ≥ 0", o.Size, o.Batch, o.Limit)
	}
	conf, err := metrics.NewConfusion(len(classes))
	if err != nil {
		return nil, fmt.Errorf("evaluate: %s: %w", ds.Name(), err)
	}
	n := ds.Len()
	if o.Limit > 0 {
		n = min(n, o.Limit)
	}
	if n == 0 {
		return nil, fmt.Errorf("evaluate: %s is empty", ds.Name())
	}
	task := data.SegEval{W: o.Size, H: o.Size, Mean: o.Mean, Std: o.Std}
	if o.Mean == ([3]float32{}) && o.Std == ([3]float32{}) {
		task.Mean, task.Std = data.ImageNetMean, data.ImageNetStd
	}
	// Batch 1 in the loader keeps items of any size apart; grouping happens below. One epoch,
	// no shuffle: index order.
	l, err := data.NewLoader(ds, task, data.LoaderConfig{Batch: 1, Epochs: 1, Workers: o.Workers})
	if err != nil {
		return nil, fmt.Errorf("evaluate: %w", err)
	}
	defer l.Close()
	e := &evaluator{fwd: fwd, conf: conf, k: len(classes), o: o, batch: max(o.Batch, 1)}
	for i := 0; i < n; i++ {
		b, err := l.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("evaluate: %w", err)
		}
		it := b.Items[0]
		if it.Full == nil {
			return nil, fmt.Errorf("evaluate: %s: image %s has no mask", ds.Name(), it.ID)
		}
		if len(e.pending) > 0 && !sameSize(e.pending[0].item, it) {
			if err := e.flush(); err != nil {
				return nil, err
			}
		}
		e.pending = append(e.pending, pendingItem{index: b.Index[0], item: it})
		if len(e.pending) == e.batch {
			if err := e.flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := e.flush(); err != nil {
		return nil, err
	}
	return &Result{Scores: conf.Scores(), Confusion: conf, Classes: classes, Images: e.images}, nil
}

type pendingItem struct {
	index int
	item  *data.Item
}

// evaluator collects same-size images into batches and counts their predictions.
type evaluator struct {
	fwd     Forward
	conf    *metrics.Confusion
	k       int
	o       Options
	batch   int
	pending []pendingItem
	images  int
	input   []float32 // reused batch buffer
}

func sameSize(a, b *data.Item) bool {
	return a.Views[0].Image.W == b.Views[0].Image.W && a.Views[0].Image.H == b.Views[0].Image.H
}

// flush runs the forward pass on the pending images and counts them.
func (e *evaluator) flush() error {
	if len(e.pending) == 0 {
		return nil
	}
	defer func() { e.pending = e.pending[:0] }()
	first := e.pending[0].item.Views[0].Image
	n, h, w := len(e.pending), first.H, first.W
	size := 3 * h * w
	if cap(e.input) < n*size {
		e.input = make([]float32, n*size)
	}
	in := data.Tensor{Shape: []int{n, 3, h, w}, Data: e.input[:n*size]}
	for i, p := range e.pending {
		copy(in.Data[i*size:], p.item.Views[0].Image.Pix)
	}
	ids := e.pending[0].item.ID
	if n > 1 {
		ids = fmt.Sprintf("%s … %s", ids, e.pending[n-1].item.ID)
	}
	out, err := e.fwd(in)
	if err != nil {
		return fmt.Errorf("evaluate: forward pass on %s: %w", ids, err)
	}
	if len(out.Shape) != 4 || out.Shape[0] != n || out.Shape[2] < 1 || out.Shape[3] < 1 {
		return fmt.Errorf("evaluate: forward pass on %s returned shape %v, want [%d,%d,h,w]", ids, out.Shape, n, e.k)
	}
	if out.Shape[1] != e.k {
		return fmt.Errorf("evaluate: the model predicts %d classes, the dataset has %d (%s)", out.Shape[1], e.k, ids)
	}
	oh, ow := out.Shape[2], out.Shape[3]
	per := e.k * oh * ow
	if len(out.Data) != n*per {
		return fmt.Errorf("evaluate: forward pass on %s returned %d values for shape %v", ids, len(out.Data), out.Shape)
	}
	for i, p := range e.pending {
		full := p.item.Full
		logits := ResizeBilinear(out.Data[i*per:(i+1)*per], e.k, oh, ow, full.H, full.W)
		pred, err := metrics.ArgmaxLogits(logits, e.k, full.H, full.W)
		if err != nil {
			return fmt.Errorf("evaluate: image %s: %w", p.item.ID, err)
		}
		if err := metrics.Add(e.conf, pred, full.Pix); err != nil {
			return fmt.Errorf("evaluate: image %s: %w", p.item.ID, err)
		}
		if e.o.Visit != nil {
			if err := e.o.Visit(p.index, p.item.ID, pred, full); err != nil {
				return err
			}
		}
		e.images++
	}
	return nil
}
