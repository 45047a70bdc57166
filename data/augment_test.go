package data

import (
	"fmt"
	"slices"
	"testing"
)

// TestRecordsReplay: each step's record is enough to redo what it did. Replaying the records
// of a full MoCo v2 view with the deterministic functions gives the same pixels.
func TestRecordsReplay(t *testing.T) {
	ds := synth(t, "synthetic:size=80")
	cfg := MoCoV2View(48)
	cfg.Jitter.P, cfg.Blur.P, cfg.GrayP = 1, 1, 0.5
	cfg.Solarize = Solarize{P: 0.5, Threshold: 128}
	var grays, solar, flips int
	for seed := uint64(0); seed < 30; seed++ {
		s, _ := ds.Load(int(seed))
		v := NewView(s)
		if err := cfg.Pipeline().Apply(v, NewRNG(seed)); err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, r := range v.Did {
			kinds = append(kinds, fmt.Sprintf("%T", r))
		}
		want := []string{"data.CropRecord", "data.JitterRecord", "data.GrayRecord", "data.BlurRecord", "data.SolarizeRecord", "data.FlipRecord", "data.NormalizeRecord"}
		if !slices.Equal(kinds, want) {
			t.Fatalf("records %v, want %v", kinds, want)
		}

		crop := v.Did[0].(CropRecord)
		img := resampleImage(s.Image, crop.Box, crop.W, crop.H) // the first crop's box is in source = image coordinates
		j := v.Did[1].(JitterRecord)
		for _, op := range j.Order {
			switch op {
			case 0:
				AdjustBrightness(img, j.Brightness)
			case 1:
				AdjustContrast(img, j.Contrast)
			case 2:
				AdjustSaturation(img, j.Saturation)
			case 3:
				AdjustHue(img, j.HueShift)
			}
		}
		if v.Did[2].(GrayRecord).Applied {
			Grayscale(img)
			grays++
		}
		if b := v.Did[3].(BlurRecord); b.Kernel > 1 {
			GaussianBlurImage(img, b.Sigma, b.Kernel)
		}
		if v.Did[4].(SolarizeRecord).Applied {
			solar++
			for i, x := range img.Pix {
				if x >= 128 {
					img.Pix[i] = 255 - x
				}
			}
		}
		if v.Did[5].(FlipRecord).Flipped {
			flipImage(img)
			flips++
		}
		back := Denormalize(v)
		for i := range img.Pix {
			if d := abs32(img.Pix[i] - back.Pix[i]); d > 1e-3 {
				t.Fatalf("seed %d: replayed pixel %d = %v, view %v\n%s", seed, i, img.Pix[i], back.Pix[i], v.Describe())
			}
		}
	}
	if grays == 0 || grays == 30 || solar == 0 || flips == 0 {
		t.Fatalf("weak test: %d grayscale, %d solarized, %d flipped of 30", grays, solar, flips)
	}
}

// TestProbabilityZeroIsIdentity: steps whose probability is 0 leave the view alone and say so.
func TestProbabilityZeroIsIdentity(t *testing.T) {
	ds := synth(t, "synthetic")
	s, _ := ds.Load(0)
	v := NewView(s)
	p := Pipeline{ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.1}, RandomGrayscale{}, GaussianBlur{SigmaMin: 1, SigmaMax: 2}, Solarize{Threshold: 128}, HFlip{}}
	if err := p.Apply(v, NewRNG(1)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.Image.Pix, s.Image.Pix) || v.Geom != Identity(s.Image.W, s.Image.H) {
		t.Fatal("probability-0 steps changed the view")
	}
	for _, r := range v.Did {
		if s := r.String(); s != "jitter no" && s != "grayscale false" && s != "blur no" && s != "solarize false" && s != "flip false" {
			t.Errorf("record %q", s)
		}
	}
}

// TestRandomResizedCropBoxes: boxes stay inside the image with area and aspect ratio in
// range (torchvision's rule), and the fallback centre crop respects the ratio.
func TestRandomResizedCropBoxes(t *testing.T) {
	s := RandomResizedCrop{W: 32, H: 32, Scale: [2]float64{0.2, 1}, Ratio: [2]float64{3.0 / 4, 4.0 / 3}}
	rng := NewRNG(5)
	for i := 0; i < 2000; i++ {
		w, h := 20+rng.IntN(300), 20+rng.IntN(300)
		b := s.pick(w, h, rng)
		area := b.W() * b.H() / float64(w*h)
		ratio := b.W() / b.H()
		if b.X0 < 0 || b.Y0 < 0 || b.X1 > float64(w) || b.Y1 > float64(h) || b.W() < 1 || b.H() < 1 {
			t.Fatalf("%dx%d: box %v outside the image", w, h, b)
		}
		// Rounding the side lengths moves area and ratio a little; the fallback can exceed
		// the area range but never the ratio range by more than rounding.
		if ratio < 0.75*(1-2/b.H()) || ratio > 4.0/3*(1+2/b.W()) || area > 1 {
			t.Fatalf("%dx%d: box %v has ratio %.3f, area %.3f", w, h, b, ratio, area)
		}
	}
	// A very wide image cannot hold a box of ratio ≤ 4/3 with area ≥ 0.2·W·H: fallback.
	if b := s.pick(1000, 20, rng); b.W()/b.H() > 4.0/3+0.1 || b.H() != 20 {
		t.Fatalf("fallback box %v", b)
	}
}
