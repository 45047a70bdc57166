package data

import (
	"fmt"
	"math/rand/v2"
)

// A Task turns one sample into one batch item: the views a training method consumes and
// their per-pixel targets. Tasks hold only settings, so one value serves all loader workers.
type Task interface {
	Item(s Sample, rng *rand.Rand) (*Item, error)
}

// Item is one sample, augmented for a task.
type Item struct {
	ID     string
	Views  []*View // 1 for segmentation and PLR, 2 for two-view pretext methods
	Labels *Mask   // targets for view 0: class ids (segmentation) or turns (PLR); nil if none
	Full   *Mask   // SegEval: the untouched original-size mask, for mIoU
}

// SegTrain is the joint image+mask augmentation for fine-tuning (mmseg's VOC recipe scaled
// to any crop): random scale, crop with label padding, flip, normalise. No photometric
// distortion, as in MoCo's segmentation transfer recipe.
type SegTrain struct {
	Crop               int     // square crop side
	ScaleMin, ScaleMax float64 // 0.5, 2.0
	Short              int     // base shorter side before scaling; 0 = the image's own size
	FlipP              float64 // 0.5
	Mean, Std          [3]float32
}

// DefaultSegTrain is mmseg's recipe (scale 0.5–2.0, flip 0.5, ImageNet normalisation) with
// the given crop, keeping each image's own size as the base (right for VOC-sized images
// cropped at 512, and for 64-pixel synthetic scenes cropped at 64).
func DefaultSegTrain(crop int) SegTrain {
	return SegTrain{Crop: crop, ScaleMin: 0.5, ScaleMax: 2, FlipP: 0.5, Mean: ImageNetMean, Std: ImageNetStd}
}

// Pipeline returns the steps SegTrain applies.
func (t SegTrain) Pipeline() Pipeline {
	return Pipeline{
		RandomScaleCrop{ // = RandomScale then RandomCropPad, resampling only the window
			RandomScale{Min: t.ScaleMin, Max: t.ScaleMax, Short: t.Short},
			RandomCropPad{W: t.Crop, H: t.Crop, Fill: t.Mean},
		},
		HFlip{P: t.FlipP},
		Normalize{Mean: t.Mean, Std: t.Std},
	}
}

func (t SegTrain) Item(s Sample, rng *rand.Rand) (*Item, error) {
	if s.Mask == nil {
		return nil, fmt.Errorf("data: %s: segmentation needs a labelled dataset", s.ID)
	}
	v := NewView(s)
	if err := t.Pipeline().Apply(v, rng); err != nil {
		return nil, err
	}
	return &Item{ID: s.ID, Views: []*View{v}, Labels: v.Mask}, nil
}

// SegEval prepares validation images without augmentation: the whole image, or resized to
// W×H when both are set (so images of different sizes can share a batch); Labels is the
// mask at the network's input size, Full the original mask for mIoU.
type SegEval struct {
	W, H      int
	Mean, Std [3]float32
}

// DefaultSegEval evaluates whole images at their own size (batch them one at a time unless
// they all share a size).
func DefaultSegEval() SegEval { return SegEval{Mean: ImageNetMean, Std: ImageNetStd} }

func (t SegEval) Item(s Sample, rng *rand.Rand) (*Item, error) {
	v := NewView(s)
	var p Pipeline
	if t.W > 0 && t.H > 0 {
		p = append(p, Resize{W: t.W, H: t.H})
	}
	p = append(p, Normalize{Mean: t.Mean, Std: t.Std})
	if err := p.Apply(v, rng); err != nil {
		return nil, err
	}
	return &Item{ID: s.ID, Views: []*View{v}, Labels: v.Mask, Full: s.Mask}, nil
}
