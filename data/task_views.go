package data

import (
	"math/rand/v2"
)

// ViewConfig is one view of an instance-discrimination method: crop, flip, colour, blur,
// solarize, normalise. The presets below are the papers' settings (REFERENCES.md §2).
type ViewConfig struct {
	Size      int        // output side
	Scale     [2]float64 // crop area fraction
	Ratio     [2]float64 // crop aspect ratio range
	FlipP     float64
	Jitter    ColorJitter
	GrayP     float64
	Blur      GaussianBlur
	Solarize  Solarize
	Mean, Std [3]float32
}

// Pipeline returns the steps in the papers' order: crop, jitter, grayscale, blur, solarize,
// flip, normalise (flip last as in MoCo's loader; it commutes with the colour steps).
func (c ViewConfig) Pipeline() Pipeline {
	return Pipeline{
		RandomResizedCrop{W: c.Size, H: c.Size, Scale: c.Scale, Ratio: c.Ratio},
		c.Jitter,
		RandomGrayscale{P: c.GrayP},
		c.Blur,
		c.Solarize,
		HFlip{P: c.FlipP},
		Normalize{Mean: c.Mean, Std: c.Std},
	}
}

// MoCoV2View is MoCo v2's augmentation (arXiv:2003.04297; facebookresearch/moco main_moco.py):
// crop scale (0.2, 1), ColorJitter(0.4, 0.4, 0.4, 0.1) p 0.8, grayscale p 0.2, blur p 0.5
// σ ∈ [0.1, 2] at 224 px, flip p 0.5.
func MoCoV2View(size int) ViewConfig {
	return ViewConfig{
		Size: size, Scale: [2]float64{0.2, 1}, Ratio: [2]float64{3.0 / 4, 4.0 / 3}, FlipP: 0.5,
		Jitter: ColorJitter{P: 0.8, Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.1},
		GrayP:  0.2,
		Blur:   GaussianBlur{P: 0.5, SigmaMin: 0.1, SigmaMax: 2, RefSize: 224},
		Mean:   ImageNetMean, Std: ImageNetStd,
	}
}

// SimCLRView is SimCLR's augmentation (arXiv:2002.05709): crop scale (0.08, 1), jitter
// strength 1 (0.8, 0.8, 0.8, 0.2) p 0.8, grayscale p 0.2, blur p 0.5, flip p 0.5.
func SimCLRView(size int) ViewConfig {
	c := MoCoV2View(size)
	c.Scale = [2]float64{0.08, 1}
	c.Jitter = ColorJitter{P: 0.8, Brightness: 0.8, Contrast: 0.8, Saturation: 0.8, Hue: 0.2}
	return c
}

// BYOLViews are BYOL's two asymmetric views (arXiv:2006.07733): crop (0.08, 1), jitter
// (0.4, 0.4, 0.2, 0.1) p 0.8, grayscale p 0.2; blur p 1.0 / 0.1, solarize p 0 / 0.2.
func BYOLViews(size int) [2]ViewConfig {
	c := MoCoV2View(size)
	c.Scale = [2]float64{0.08, 1}
	c.Jitter = ColorJitter{P: 0.8, Brightness: 0.4, Contrast: 0.4, Saturation: 0.2, Hue: 0.1}
	a, b := c, c
	a.Blur.P, b.Blur.P = 1, 0.1
	b.Solarize = Solarize{P: 0.2, Threshold: 128}
	return [2]ViewConfig{a, b}
}

// TwoViews is the task of two-view methods (MoCo, SimCLR, BYOL, SimSiam, EDMoCo, PLMoCo):
// two independently augmented views of each image, each with its geometry so dense methods
// can match cells (CellMatch).
type TwoViews struct{ A, B ViewConfig }

// MoCoV2 is TwoViews with MoCo v2's augmentation on both views.
func MoCoV2(size int) TwoViews { return TwoViews{MoCoV2View(size), MoCoV2View(size)} }

func (t TwoViews) Item(s Sample, rng *rand.Rand) (*Item, error) {
	it := &Item{ID: s.ID}
	for _, c := range []ViewConfig{t.A, t.B} {
		v := &View{Image: s.Image, Geom: Identity(s.Image.W, s.Image.H)} // the crop copies
		if err := c.Pipeline().Apply(v, rng); err != nil {
			return nil, err
		}
		it.Views = append(it.Views, v)
	}
	return it, nil
}

// PLR is patch-level rotation prediction: one view (crop, flip, colour as configured),
// split into Grid×Grid patches each turned by a random multiple of 90°; Labels holds the
// per-pixel turn class 0–3.
type PLR struct {
	View ViewConfig
	Grid int
}

// DefaultPLR crops like MoCo v2 (scale 0.2–1, flip) without colour changes, on a 4×4 grid.
func DefaultPLR(size int) PLR {
	c := MoCoV2View(size)
	c.Jitter.P, c.GrayP, c.Blur.P = 0, 0, 0
	return PLR{View: c, Grid: 4}
}

// Pipeline is the view's steps with the patch rotation placed before normalisation.
func (t PLR) Pipeline() Pipeline {
	p := t.View.Pipeline()
	n := len(p) - 1 // the Normalize step
	return append(append(p[:n:n], PatchRotation{Grid: t.Grid}), p[n])
}

func (t PLR) Item(s Sample, rng *rand.Rand) (*Item, error) {
	v := &View{Image: s.Image, Geom: Identity(s.Image.W, s.Image.H)}
	if err := t.Pipeline().Apply(v, rng); err != nil {
		return nil, err
	}
	return &Item{ID: s.ID, Views: []*View{v}, Labels: v.Rot}, nil
}
