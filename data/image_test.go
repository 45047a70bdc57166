package data

import (
	"image"
	"image/color"
	"testing"
)

// TestFromImageYCbCr: the JPEG fast path gives the standard library's colours for every
// chroma subsampling and a non-zero origin.
func TestFromImageYCbCr(t *testing.T) {
	for _, ratio := range []image.YCbCrSubsampleRatio{image.YCbCrSubsampleRatio420, image.YCbCrSubsampleRatio444,
		image.YCbCrSubsampleRatio422, image.YCbCrSubsampleRatio440, image.YCbCrSubsampleRatio411, image.YCbCrSubsampleRatio410} {
		img := image.NewYCbCr(image.Rect(3, 5, 40, 31), ratio)
		rng := NewRNG(1)
		for i := range img.Y {
			img.Y[i] = uint8(rng.IntN(256))
		}
		for i := range img.Cb {
			img.Cb[i], img.Cr[i] = uint8(rng.IntN(256)), uint8(rng.IntN(256))
		}
		m := FromImage(img)
		for y := 0; y < m.H; y++ {
			for x := 0; x < m.W; x++ {
				c := img.YCbCrAt(3+x, 5+y)
				r, g, b := color.YCbCrToRGB(c.Y, c.Cb, c.Cr)
				if mr, mg, mb := m.At(x, y); mr != float32(r) || mg != float32(g) || mb != float32(b) {
					t.Fatalf("%v: pixel (%d,%d) = (%v,%v,%v), want (%d,%d,%d)", ratio, x, y, mr, mg, mb, r, g, b)
				}
			}
		}
	}
}

// TestShrinkWeighsAlpha: shrinking averages colour by alpha, so a transparent pixel's colour
// does not leak into the result, and alpha itself is the plain mean.
func TestShrinkWeighsAlpha(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 4, 2))
	for x := 0; x < 4; x++ {
		for y := 0; y < 2; y++ {
			if x%2 == 0 {
				img.SetNRGBA(x, y, color.NRGBA{200, 10, 10, 255})
			} else {
				img.SetNRGBA(x, y, color.NRGBA{0, 255, 0, 0})
			}
		}
	}
	out := shrink(img, 2)
	if out.Rect.Dx() != 2 || out.Rect.Dy() != 1 {
		t.Fatalf("size %v", out.Rect)
	}
	if c := out.NRGBAAt(0, 0); c != (color.NRGBA{200, 10, 10, 128}) {
		t.Fatalf("shrunk pixel %v, want {200 10 10 128}", c)
	}
}
