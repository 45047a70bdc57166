package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// BlurRecord says whether a GaussianBlur ran, with the σ (view pixels) and kernel size used.
type BlurRecord struct {
	Applied bool
	Sigma   float64
	Kernel  int
}

func (r BlurRecord) String() string {
	if !r.Applied {
		return "blur no"
	}
	return fmt.Sprintf("blur sigma %.3f kernel %d", r.Sigma, r.Kernel)
}

// GaussianBlur blurs with probability P, σ uniform in [SigmaMin, SigmaMax]. The papers give
// σ for 224-pixel views (MoCo v2, SimCLR, BYOL: [0.1, 2]); with RefSize 224 the drawn σ is
// scaled by the view's side/224 so a 64-pixel view is blurred by the same fraction of its
// size. RefSize 0 uses σ as is. The kernel spans ±3σ (odd size 2⌈3σ⌉+1), edges reflected.
type GaussianBlur struct {
	P                  float64
	SigmaMin, SigmaMax float64
	RefSize            int
}

func (s GaussianBlur) Apply(v *View, rng *rand.Rand) (Record, error) {
	sigma := uniform(rng, s.SigmaMin, s.SigmaMax)
	if rng.Float64() >= s.P {
		return BlurRecord{}, nil
	}
	if s.RefSize > 0 {
		sigma *= float64(min(v.Image.W, v.Image.H)) / float64(s.RefSize)
	}
	k := 2*int(math.Ceil(3*sigma)) + 1
	k = min(k, 2*(min(v.Image.W, v.Image.H)-1)+1) // reflection needs radius < side
	if k < 3 || sigma <= 0 {
		return BlurRecord{Applied: true, Sigma: sigma, Kernel: 1}, nil
	}
	GaussianBlurImage(v.Image, sigma, k)
	return BlurRecord{Applied: true, Sigma: sigma, Kernel: k}, nil
}

// GaussianBlurImage is torchvision's gaussian_blur(img, [k, k], [σ, σ]): a separable kernel
// exp(−x²/2σ²) sampled at integer offsets −(k−1)/2 … (k−1)/2, normalised, with reflect
// padding. k must be odd and at most 2·side−1.
func GaussianBlurImage(img *Image, sigma float64, k int) {
	half := k / 2
	kern := make([]float32, k)
	var sum float64
	for i := range kern {
		x := float64(i - half)
		v := math.Exp(-0.5 * (x / sigma) * (x / sigma))
		kern[i] = float32(v)
		sum += v
	}
	for i := range kern {
		kern[i] = float32(float64(kern[i]) / sum)
	}
	reflect := func(i, n int) int {
		if i < 0 {
			return -i
		}
		if i >= n {
			return 2*(n-1) - i
		}
		return i
	}
	w, h := img.W, img.H
	tmp := make([]float32, w*h)
	for c := 0; c < 3; c++ {
		p := img.Plane(c)
		for y := 0; y < h; y++ {
			row := p[y*w : (y+1)*w]
			for x := 0; x < w; x++ {
				var s float32
				for j, kv := range kern {
					s += kv * row[reflect(x+j-half, w)]
				}
				tmp[y*w+x] = s
			}
		}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				var s float32
				for j, kv := range kern {
					s += kv * tmp[reflect(y+j-half, h)*w+x]
				}
				p[y*w+x] = s
			}
		}
	}
}
