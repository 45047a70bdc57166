package data

import (
	"slices"
	"testing"
)

// TestScaleCropEqualsScaleThenCrop: the fused step gives the pixels (to float rounding), labels,
// geometry and random stream of RandomScale followed by RandomCropPad.
func TestScaleCropEqualsScaleThenCrop(t *testing.T) {
	ds := synth(t, "synthetic:size=48")
	for seed := uint64(0); seed < 40; seed++ {
		s, _ := ds.Load(int(seed))
		scale := RandomScale{Min: 0.5, Max: 2}
		crop := RandomCropPad{W: 40, H: 56, Fill: ImageNetMean}
		a, b := NewView(s), NewView(s)
		ra, rb := NewRNG(seed), NewRNG(seed)
		if err := (Pipeline{scale, crop}).Apply(a, ra); err != nil {
			t.Fatal(err)
		}
		if err := (Pipeline{RandomScaleCrop{scale, crop}}).Apply(b, rb); err != nil {
			t.Fatal(err)
		}
		// The fused box's scale is computed as (x1−x0)/w instead of W/sw: equal up to
		// float rounding, so pixels agree to rounding, labels exactly.
		var worst float32
		for i := range a.Image.Pix {
			worst = max(worst, abs32(a.Image.Pix[i]-b.Image.Pix[i]))
		}
		if worst > 1e-3 || !slices.Equal(a.Mask.Pix, b.Mask.Pix) {
			t.Fatalf("seed %d: pixels differ by up to %g, or labels differ (%v vs %v)", seed, worst, a.Did, b.Did)
		}
		if a.Geom != b.Geom || a.Did[1].(CropRecord) != b.Did[0].(ScaleCropRecord).Crop {
			t.Fatalf("seed %d: geometry %+v vs %+v", seed, a.Geom, b.Geom)
		}
		if ra.Uint64() != rb.Uint64() {
			t.Fatalf("seed %d: different random streams", seed)
		}
	}
}
