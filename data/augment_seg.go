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

// ScaleCropRecord is what a RandomScaleCrop did.
type ScaleCropRecord struct {
	Scale ScaleRecord
	Crop  CropRecord
}

func (r ScaleCropRecord) String() string { return r.Scale.String() + "; " + r.Crop.String() }

// RandomScaleCrop is RandomScale followed by RandomCropPad, drawing the same random numbers
// and giving the same pixels, but resampling only the window that is kept: scaling a
// 500×375 image by 2 to crop 128×128 from it costs a 128×128 resample, not a 1000×750 one.
type RandomScaleCrop struct {
	Scale RandomScale
	Crop  RandomCropPad
}

func (s RandomScaleCrop) Apply(v *View, rng *rand.Rand) (Record, error) {
	if s.Scale.Min <= 0 || s.Scale.Max < s.Scale.Min {
		return nil, fmt.Errorf("data: RandomScaleCrop: range [%g, %g]; want 0 < min <= max", s.Scale.Min, s.Scale.Max)
	}
	if s.Crop.W < 1 || s.Crop.H < 1 {
		return nil, fmt.Errorf("data: RandomScaleCrop: window %dx%d; want at least 1x1", s.Crop.W, s.Crop.H)
	}
	W, H := v.Image.W, v.Image.H
	f := uniform(rng, s.Scale.Min, s.Scale.Max)
	if s.Scale.Short > 0 {
		f *= float64(s.Scale.Short) / float64(min(W, H))
	}
	sw, sh := max(1, int(math.Round(float64(W)*f))), max(1, int(math.Round(float64(H)*f)))
	x0 := rng.IntN(max(0, sw-s.Crop.W) + 1)
	y0 := rng.IntN(max(0, sh-s.Crop.H) + 1)

	// The kept part of the scaled image, resampled straight from the source: output pixel u
	// of the whole scaled image has its centre at (u+0.5)·W/sw, so pixels x0… of the window
	// come from the source box starting at x0·W/sw with the same filter taps.
	iw, ih := min(s.Crop.W, sw-x0), min(s.Crop.H, sh-y0)
	kx, ky := float64(W)/float64(sw), float64(H)/float64(sh)
	box := Box{float64(x0) * kx, float64(y0) * ky, float64(x0+iw) * kx, float64(y0+ih) * ky}
	v.Image = cropPadImage(resampleImage(v.Image, box, iw, ih), 0, 0, s.Crop.W, s.Crop.H, s.Crop.Fill)
	if v.Mask != nil {
		v.Mask = cropPadMask(nearestMask(v.Mask, 0, 0, kx, ky, x0, y0, iw, ih, Ignore), 0, 0, s.Crop.W, s.Crop.H, Ignore)
	}
	if v.Rot != nil {
		v.Rot = cropPadMask(nearestMask(v.Rot, 0, 0, kx, ky, x0, y0, iw, ih, Ignore), 0, 0, s.Crop.W, s.Crop.H, Ignore)
	}
	scaled := v.Geom.crop(Box{0, 0, float64(W), float64(H)}, sw, sh)
	window := Box{float64(x0), float64(y0), float64(x0 + s.Crop.W), float64(y0 + s.Crop.H)}
	rec := ScaleCropRecord{Scale: ScaleRecord{Factor: f, W: sw, H: sh},
		Crop: CropRecord{Box: scaled.BoxToSource(window), W: s.Crop.W, H: s.Crop.H}}
	v.Geom = scaled.crop(window, s.Crop.W, s.Crop.H)
	return rec, nil
}
