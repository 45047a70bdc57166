package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// CropRecord is what a crop did: Box is the crop in source-image coordinates, resampled to
// W×H. Boxes may extend past the source where a segmentation crop was padded.
type CropRecord struct {
	Box  Box
	W, H int
}

func (r CropRecord) String() string { return fmt.Sprintf("crop %v -> %dx%d", r.Box, r.W, r.H) }

// RandomResizedCrop picks a box with area fraction in Scale and aspect ratio (w/h) in Ratio,
// both as torchvision's RandomResizedCrop draws them (area uniform, log-ratio uniform, 10
// tries, then a centre crop clamped to Ratio), and resamples it to W×H with antialiased
// bilinear filtering. MoCo v2 uses Scale {0.2, 1}, SimCLR and BYOL {0.08, 1}; Ratio {3/4, 4/3}.
// Pixels just outside the box take part in the filter of the edge pixels, as in PIL's
// resize(box=…); torchvision crops first, so its edge pixels differ slightly.
type RandomResizedCrop struct {
	W, H  int
	Scale [2]float64
	Ratio [2]float64
}

func (s RandomResizedCrop) Apply(v *View, rng *rand.Rand) (Record, error) {
	if s.W < 1 || s.H < 1 {
		return nil, fmt.Errorf("data: RandomResizedCrop: output %dx%d; want at least 1x1", s.W, s.H)
	}
	box := s.pick(v.Image.W, v.Image.H, rng)
	return cropTo(v, box, s.W, s.H), nil
}

// pick is torchvision's RandomResizedCrop.get_params on integer pixel boxes.
func (s RandomResizedCrop) pick(w, h int, rng *rand.Rand) Box {
	area := float64(w * h)
	logLo, logHi := math.Log(s.Ratio[0]), math.Log(s.Ratio[1])
	for try := 0; try < 10; try++ {
		target := area * uniform(rng, s.Scale[0], s.Scale[1])
		ratio := math.Exp(uniform(rng, logLo, logHi))
		cw := int(math.Round(math.Sqrt(target * ratio)))
		ch := int(math.Round(math.Sqrt(target / ratio)))
		if cw > 0 && ch > 0 && cw <= w && ch <= h {
			x := rng.IntN(w - cw + 1)
			y := rng.IntN(h - ch + 1)
			return Box{float64(x), float64(y), float64(x + cw), float64(y + ch)}
		}
	}
	cw, ch := w, h // fallback: the largest centre crop within the ratio range
	if r := float64(w) / float64(h); r < s.Ratio[0] {
		ch = int(math.Round(float64(w) / s.Ratio[0]))
	} else if r > s.Ratio[1] {
		cw = int(math.Round(float64(h) * s.Ratio[1]))
	}
	x, y := (w-cw)/2, (h-ch)/2
	return Box{float64(x), float64(y), float64(x + cw), float64(y + ch)}
}

// cropTo resamples box (view coordinates) of v to w×h: the image with antialiased bilinear,
// the label maps with nearest neighbour (Ignore outside).
func cropTo(v *View, box Box, w, h int) CropRecord {
	src := v.Geom.BoxToSource(box)
	v.Image = resampleImage(v.Image, box, w, h)
	if v.Mask != nil {
		v.Mask = resampleMask(v.Mask, box, w, h, Ignore)
	}
	if v.Rot != nil {
		v.Rot = resampleMask(v.Rot, box, w, h, Ignore)
	}
	v.Geom = v.Geom.crop(box, w, h)
	return CropRecord{Box: src, W: w, H: h}
}

// Resize resamples the whole view to W×H (evaluation at a fixed size).
type Resize struct{ W, H int }

func (s Resize) Apply(v *View, _ *rand.Rand) (Record, error) {
	if s.W < 1 || s.H < 1 {
		return nil, fmt.Errorf("data: Resize: output %dx%d; want at least 1x1", s.W, s.H)
	}
	return cropTo(v, Box{0, 0, float64(v.Image.W), float64(v.Image.H)}, s.W, s.H), nil
}

// FlipRecord says whether a flip happened.
type FlipRecord struct{ Flipped bool }

func (r FlipRecord) String() string { return fmt.Sprintf("flip %v", r.Flipped) }

// HFlip mirrors the view left–right with probability P (image, labels and geometry).
type HFlip struct{ P float64 }

func (s HFlip) Apply(v *View, rng *rand.Rand) (Record, error) {
	if rng.Float64() >= s.P {
		return FlipRecord{}, nil
	}
	flipImage(v.Image)
	if v.Mask != nil {
		flipMask(v.Mask)
	}
	if v.Rot != nil {
		// A mirrored patch that was turned k·90° counter-clockwise now looks turned k·90°
		// clockwise: its class becomes (4−k) mod 4.
		flipMask(v.Rot)
		for i, k := range v.Rot.Pix {
			if k < 4 {
				v.Rot.Pix[i] = (4 - k) % 4
			}
		}
	}
	v.Geom = v.Geom.flip()
	return FlipRecord{Flipped: true}, nil
}
