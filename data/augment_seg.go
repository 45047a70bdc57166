package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// ScaleRecord is what a RandomScale did: the factor applied and the new size.
type ScaleRecord struct {
	Factor float64
	W, H   int
}

func (r ScaleRecord) String() string { return fmt.Sprintf("scale %.3f -> %dx%d", r.Factor, r.W, r.H) }

// RandomScale resizes image and labels together by a factor uniform in [Min, Max] (mmseg's
// RandomResize ratio range: 0.5–2.0), keeping the aspect ratio. With Short > 0 the factor
// applies to a base size whose shorter side is Short (mmseg's scale (2048, 512) for VOC is
// Short 512 for images whose longer side stays under 2048).
type RandomScale struct {
	Min, Max float64
	Short    int
}

func (s RandomScale) Apply(v *View, rng *rand.Rand) (Record, error) {
	if s.Min <= 0 || s.Max < s.Min {
		return nil, fmt.Errorf("data: RandomScale: range [%g, %g]; want 0 < min <= max", s.Min, s.Max)
	}
	f := uniform(rng, s.Min, s.Max)
	if s.Short > 0 {
		f *= float64(s.Short) / float64(min(v.Image.W, v.Image.H))
	}
	w := max(1, int(math.Round(float64(v.Image.W)*f)))
	h := max(1, int(math.Round(float64(v.Image.H)*f)))
	cropTo(v, Box{0, 0, float64(v.Image.W), float64(v.Image.H)}, w, h)
	return ScaleRecord{Factor: f, W: w, H: h}, nil
}

// RandomCropPad takes a W×H window at a random position (mmseg's RandomCrop); when the
// view is smaller than the window, the missing part (right and bottom, as mmseg pads) is
// filled with Fill for the image and Ignore for the labels, so padding never counts in the
// loss. Fill is usually the mean pixel, which Normalize turns into 0.
type RandomCropPad struct {
	W, H int
	Fill [3]float32
}

func (s RandomCropPad) Apply(v *View, rng *rand.Rand) (Record, error) {
	if s.W < 1 || s.H < 1 {
		return nil, fmt.Errorf("data: RandomCropPad: window %dx%d; want at least 1x1", s.W, s.H)
	}
	x0 := rng.IntN(max(0, v.Image.W-s.W) + 1)
	y0 := rng.IntN(max(0, v.Image.H-s.H) + 1)
	box := Box{float64(x0), float64(y0), float64(x0 + s.W), float64(y0 + s.H)}
	src := v.Geom.BoxToSource(box)
	v.Image = cropPadImage(v.Image, x0, y0, s.W, s.H, s.Fill)
	if v.Mask != nil {
		v.Mask = cropPadMask(v.Mask, x0, y0, s.W, s.H, Ignore)
	}
	if v.Rot != nil {
		v.Rot = cropPadMask(v.Rot, x0, y0, s.W, s.H, Ignore)
	}
	v.Geom = v.Geom.crop(box, s.W, s.H)
	return CropRecord{Box: src, W: s.W, H: s.H}, nil
}
