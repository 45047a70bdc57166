package data

import "testing"

// rot90 is the slow reference: one counter-clockwise quarter turn of a p×p patch,
// out[y][x] = in[x][p−1−y] (numpy.rot90 on an array indexed [row][column]).
func rot90(in [][]float32) [][]float32 {
	p := len(in)
	out := make([][]float32, p)
	for y := range out {
		out[y] = make([]float32, p)
		for x := range out[y] {
			out[y][x] = in[x][p-1-y]
		}
	}
	return out
}

func patchOf(img *Image, c, x0, y0, p int) [][]float32 {
	out := make([][]float32, p)
	for y := range out {
		out[y] = make([]float32, p)
		for x := range out[y] {
			out[y][x] = img.Plane(c)[(y0+y)*img.W+x0+x]
		}
	}
	return out
}

// TestPatchRotationTurnsAndLabels rotates a known image and checks every patch against
// k applications of the slow quarter turn, and that the label map holds k on the patch.
func TestPatchRotationTurnsAndLabels(t *testing.T) {
	const side, grid = 24, 4
	p := side / grid
	rng := NewRNG(7)
	src := NewImage(side, side)
	for i := range src.Pix {
		src.Pix[i] = float32(rng.IntN(256))
	}
	seen := map[int]bool{}
	for seed := uint64(0); seed < 5; seed++ {
		v := &View{Image: src.Clone(), Mask: NewMask(side, side, 0), Geom: Identity(side, side)}
		for i := range v.Mask.Pix {
			v.Mask.Pix[i] = uint8(i % 200)
		}
		origMask := v.Mask.Clone()
		rec, err := PatchRotation{Grid: grid}.Apply(v, NewRNG(seed))
		if err != nil {
			t.Fatal(err)
		}
		for i, k := range rec.(RotationRecord).K {
			seen[k] = true
			x0, y0 := (i%grid)*p, (i/grid)*p
			for c := 0; c < 3; c++ {
				want := patchOf(src, c, x0, y0, p)
				for n := 0; n < k; n++ {
					want = rot90(want)
				}
				got := patchOf(v.Image, c, x0, y0, p)
				for y := range want {
					for x := range want[y] {
						if got[y][x] != want[y][x] {
							t.Fatalf("seed %d patch %d (k=%d) channel %d: pixel (%d,%d) = %v, want %v", seed, i, k, c, x, y, got[y][x], want[y][x])
						}
					}
				}
			}
			for y := y0; y < y0+p; y++ {
				for x := x0; x < x0+p; x++ {
					if got := v.Rot.Pix[y*side+x]; int(got) != k {
						t.Fatalf("seed %d: label at (%d,%d) = %d, want %d", seed, x, y, got, k)
					}
				}
			}
			// The segmentation mask turns with the pixels.
			sx, sy := rotSource(0, 0, p, k)
			if got, want := v.Mask.Pix[y0*side+x0], origMask.Pix[(y0+sy)*side+x0+sx]; got != want {
				t.Fatalf("seed %d patch %d: mask not rotated with the image (%d, want %d)", seed, i, got, want)
			}
		}
	}
	if len(seen) != 4 {
		t.Fatalf("turns drawn: %v; want all of 0–3", seen)
	}
}

// TestRotationDirection pins the convention on a 2×2 patch: [[a b] [c d]] turned 90°
// counter-clockwise is [[b d] [a c]].
func TestRotationDirection(t *testing.T) {
	img := &Image{W: 2, H: 2, Pix: []float32{1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 3, 4}}
	tmp := make([]float32, 4)
	rotatePatch(img.Plane(0), 2, 0, 0, 2, 1, tmp)
	if got := img.Plane(0); got[0] != 2 || got[1] != 4 || got[2] != 1 || got[3] != 3 {
		t.Fatalf("quarter turn of [[1 2] [3 4]] = %v, want [2 4 1 3]", got)
	}
}

// TestFlipAfterRotation: mirroring a turned patch gives the mirrored patch turned the other
// way, so the label must become (4−k) mod 4.
func TestFlipAfterRotation(t *testing.T) {
	const side = 16
	rng := NewRNG(3)
	src := NewImage(side, side)
	for i := range src.Pix {
		src.Pix[i] = float32(rng.IntN(256))
	}
	var v *View
	k := 0
	for seed := uint64(0); k != 1 && k != 3; seed++ { // the turns a flip changes
		v = &View{Image: src.Clone(), Geom: Identity(side, side)}
		if _, err := (PatchRotation{Grid: 1}).Apply(v, NewRNG(seed)); err != nil {
			t.Fatal(err)
		}
		k = int(v.Rot.Pix[0])
	}
	if _, err := (HFlip{P: 1}).Apply(v, rng); err != nil {
		t.Fatal(err)
	}
	mirrored := src.Clone()
	flipImage(mirrored)
	want := patchOf(mirrored, 0, 0, 0, side)
	for n := 0; n < int(v.Rot.Pix[0]); n++ {
		want = rot90(want)
	}
	got := patchOf(v.Image, 0, 0, 0, side)
	for y := range want {
		for x := range want[y] {
			if got[y][x] != want[y][x] {
				t.Fatalf("k=%d then flip: label %d does not describe the pixels", k, v.Rot.Pix[0])
			}
		}
	}
	if int(v.Rot.Pix[0]) != 4-k {
		t.Fatalf("k=%d then flip: label %d, want %d", k, v.Rot.Pix[0], 4-k)
	}
}

func TestPatchRotationRejectsBadGrid(t *testing.T) {
	for _, c := range []struct{ w, h, grid int }{{24, 24, 5}, {24, 16, 4}, {24, 24, 0}} {
		v := &View{Image: NewImage(c.w, c.h), Geom: Identity(c.w, c.h)}
		if _, err := (PatchRotation{Grid: c.grid}).Apply(v, NewRNG(0)); err == nil {
			t.Errorf("%dx%d grid %d: no error", c.w, c.h, c.grid)
		}
	}
}
