package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// JitterRecord is what a ColorJitter did: the factors it drew and the order it applied them
// in (0 brightness, 1 contrast, 2 saturation, 3 hue). Applied is false when the step's
// probability said no.
type JitterRecord struct {
	Applied                                    bool
	Brightness, Contrast, Saturation, HueShift float64
	Order                                      [4]int
}

func (r JitterRecord) String() string {
	if !r.Applied {
		return "jitter no"
	}
	return fmt.Sprintf("jitter brightness %.3f contrast %.3f saturation %.3f hue %+.3f order %v",
		r.Brightness, r.Contrast, r.Saturation, r.HueShift, r.Order)
}

// ColorJitter is torchvision's ColorJitter applied with probability P: brightness, contrast
// and saturation factors uniform in [max(0, 1−x), 1+x], a hue shift uniform in [−Hue, Hue]
// (in turns), applied in a random order. MoCo v2: {P 0.8, 0.4, 0.4, 0.4, 0.1}.
type ColorJitter struct {
	P                                     float64
	Brightness, Contrast, Saturation, Hue float64
}

func (s ColorJitter) Apply(v *View, rng *rand.Rand) (Record, error) {
	// Draw everything before deciding, so the stream of random numbers does not depend on P.
	rec := JitterRecord{
		Brightness: uniform(rng, max(0, 1-s.Brightness), 1+s.Brightness),
		Contrast:   uniform(rng, max(0, 1-s.Contrast), 1+s.Contrast),
		Saturation: uniform(rng, max(0, 1-s.Saturation), 1+s.Saturation),
		HueShift:   uniform(rng, -s.Hue, s.Hue),
	}
	perm := rng.Perm(4)
	copy(rec.Order[:], perm)
	if rng.Float64() >= s.P {
		return JitterRecord{}, nil
	}
	rec.Applied = true
	for _, op := range rec.Order {
		switch op {
		case 0:
			if s.Brightness > 0 {
				AdjustBrightness(v.Image, rec.Brightness)
			}
		case 1:
			if s.Contrast > 0 {
				AdjustContrast(v.Image, rec.Contrast)
			}
		case 2:
			if s.Saturation > 0 {
				AdjustSaturation(v.Image, rec.Saturation)
			}
		case 3:
			if s.Hue > 0 {
				AdjustHue(v.Image, rec.HueShift)
			}
		}
	}
	return rec, nil
}

// The Adjust functions below are torchvision.transforms.functional's tensor versions on a
// 0–255 image (results clamped to [0, 255]); tests compare them with torchvision.

// AdjustBrightness multiplies every value by f.
func AdjustBrightness(img *Image, f float64) {
	for i, x := range img.Pix {
		img.Pix[i] = clamp255(float32(f) * x)
	}
}

// AdjustContrast blends the image with the mean of its grayscale version.
func AdjustContrast(img *Image, f float64) {
	gray := grayPlane(img)
	var sum float64
	for _, g := range gray {
		sum += float64(g)
	}
	mean := float32(sum / float64(len(gray)))
	blend(img.Pix, func(int) float32 { return mean }, float32(f))
}

// AdjustSaturation blends the image with its grayscale version.
func AdjustSaturation(img *Image, f float64) {
	gray := grayPlane(img)
	n := len(gray)
	blend(img.Pix, func(i int) float32 { return gray[i%n] }, float32(f))
}

func blend(pix []float32, other func(int) float32, f float32) {
	for i, x := range pix {
		pix[i] = clamp255(f*x + (1-f)*other(i))
	}
}

// AdjustHue rotates hue by shift turns (in [−0.5, 0.5]) in HSV space.
func AdjustHue(img *Image, shift float64) {
	n := img.W * img.H
	R, G, B := img.Plane(0), img.Plane(1), img.Plane(2)
	for i := 0; i < n; i++ {
		h, s, v := rgbToHSV(R[i]/255, G[i]/255, B[i]/255)
		h = float32(math.Mod(float64(h)+shift+1, 1))
		r, g, b := hsvToRGB(h, s, v)
		R[i], G[i], B[i] = 255*r, 255*g, 255*b
	}
}

// grayPlane is ITU-R 601 luma with torchvision's weights.
func grayPlane(img *Image) []float32 {
	n := img.W * img.H
	R, G, B := img.Plane(0), img.Plane(1), img.Plane(2)
	out := make([]float32, n)
	for i := range out {
		out[i] = 0.2989*R[i] + 0.587*G[i] + 0.114*B[i]
	}
	return out
}

// Grayscale replaces the three channels with their luma.
func Grayscale(img *Image) {
	g := grayPlane(img)
	copy(img.Plane(0), g)
	copy(img.Plane(1), g)
	copy(img.Plane(2), g)
}

func clamp255(x float32) float32 { return min(255, max(0, x)) }

// rgbToHSV and hsvToRGB follow torchvision's _rgb2hsv and _hsv2rgb on [0, 1] values.
func rgbToHSV(r, g, b float32) (h, s, v float32) {
	maxc, minc := max(r, g, b), min(r, g, b)
	cr := maxc - minc
	if cr == 0 {
		return 0, 0, maxc
	}
	s = cr / maxc
	rc, gc, bc := (maxc-r)/cr, (maxc-g)/cr, (maxc-b)/cr
	switch {
	case maxc == r:
		h = bc - gc
	case maxc == g:
		h = 2 + rc - bc
	default:
		h = 4 + gc - rc
	}
	h = float32(math.Mod(float64(h/6+1), 1))
	return h, s, maxc
}

func hsvToRGB(h, s, v float32) (r, g, b float32) {
	i6 := float32(math.Floor(float64(h * 6)))
	f := h*6 - i6
	i := int(i6) % 6
	if i < 0 {
		i += 6
	}
	c01 := func(x float32) float32 { return min(1, max(0, x)) }
	p, q, t := c01(v*(1-s)), c01(v*(1-s*f)), c01(v*(1-s*(1-f)))
	switch i {
	case 0:
		return v, t, p
	case 1:
		return q, v, p
	case 2:
		return p, v, t
	case 3:
		return p, q, v
	case 4:
		return t, p, v
	}
	return v, p, q
}

// GrayRecord says whether a RandomGrayscale turned the view gray.
type GrayRecord struct{ Applied bool }

func (r GrayRecord) String() string { return fmt.Sprintf("grayscale %v", r.Applied) }

// RandomGrayscale converts the view to 3-channel grayscale with probability P.
type RandomGrayscale struct{ P float64 }

func (s RandomGrayscale) Apply(v *View, rng *rand.Rand) (Record, error) {
	if rng.Float64() >= s.P {
		return GrayRecord{}, nil
	}
	Grayscale(v.Image)
	return GrayRecord{Applied: true}, nil
}

// SolarizeRecord says whether a Solarize inverted the bright values.
type SolarizeRecord struct{ Applied bool }

func (r SolarizeRecord) String() string { return fmt.Sprintf("solarize %v", r.Applied) }

// Solarize inverts values at or above Threshold (0–255 scale) with probability P (BYOL's
// second view: P 0.2, threshold 128).
type Solarize struct{ P, Threshold float64 }

func (s Solarize) Apply(v *View, rng *rand.Rand) (Record, error) {
	if rng.Float64() >= s.P {
		return SolarizeRecord{}, nil
	}
	t := float32(s.Threshold)
	for i, x := range v.Image.Pix {
		if x >= t {
			v.Image.Pix[i] = 255 - x
		}
	}
	return SolarizeRecord{Applied: true}, nil
}
