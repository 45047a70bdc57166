package data

import (
	"math"
	"slices"
	"testing"
)

// TestSyntheticDeterministic: a scene is a pure function of (seed, split, index).
func TestSyntheticDeterministic(t *testing.T) {
	a := synth(t, "synthetic:seed=5")
	b := synth(t, "synthetic:seed=5")
	c := synth(t, "synthetic:seed=6")
	v, err := Open("synthetic:seed=5", Options{Split: "val"})
	if err != nil {
		t.Fatal(err)
	}
	sa, _ := a.Load(17)
	sb, _ := b.Load(17)
	sc, _ := c.Load(17)
	sv, _ := v.Load(17)
	if !slices.Equal(sa.Image.Pix, sb.Image.Pix) || !slices.Equal(sa.Mask.Pix, sb.Mask.Pix) {
		t.Fatal("same seed and index, different scenes")
	}
	if slices.Equal(sa.Image.Pix, sc.Image.Pix) || slices.Equal(sa.Image.Pix, sv.Image.Pix) {
		t.Fatal("another seed or the val split repeats the scene")
	}
	if a.Len() != SyntheticTrain || v.Len() != SyntheticVal || sa.Image.W != SyntheticSize {
		t.Fatalf("defaults: %d train, %d val, size %d", a.Len(), v.Len(), sa.Image.W)
	}
}

// TestSyntheticIsAboutShape checks the properties that make the demo task learnable but
// not trivial: every class appears, background is neither almost all nor almost none of the
// pixels, scenes often hold several classes (occlusion happens), and a class's mean colour
// varies widely between instances, so colour alone cannot give the class.
func TestSyntheticIsAboutShape(t *testing.T) {
	ds := synth(t, "synthetic:classes=8,n=300")
	s, err := Stats(ds, 0)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, p := range s.Pixels {
		total += p
	}
	for c, n := range s.Present {
		if n < 20 {
			t.Errorf("class %s in only %d of 300 images", ShapeNames[c], n)
		}
	}
	if bg := float64(s.Pixels[0]) / float64(total); bg < 0.4 || bg > 0.9 {
		t.Errorf("background is %.2f of the pixels", bg)
	}
	multi := 0
	var means [][3]float64 // mean colour of class 1 in each image that has it
	for i := 0; i < 300; i++ {
		smp, _ := ds.Load(i)
		seen := map[uint8]bool{}
		var sum [3]float64
		var n float64
		for j, v := range smp.Mask.Pix {
			seen[v] = true
			if v == 1 {
				r, g, b := smp.Image.At(j%smp.Image.W, j/smp.Image.W)
				sum[0], sum[1], sum[2] = sum[0]+float64(r), sum[1]+float64(g), sum[2]+float64(b)
				n++
			}
		}
		if len(seen) >= 3 {
			multi++
		}
		if n > 0 {
			means = append(means, [3]float64{sum[0] / n, sum[1] / n, sum[2] / n})
		}
	}
	if multi < 100 {
		t.Errorf("only %d of 300 scenes hold two or more shape classes", multi)
	}
	for ch := 0; ch < 3; ch++ {
		var m, m2 float64
		for _, c := range means {
			m += c[ch]
			m2 += c[ch] * c[ch]
		}
		m /= float64(len(means))
		if sd := math.Sqrt(m2/float64(len(means)) - m*m); sd < 40 {
			t.Errorf("class 1's mean colour channel %d varies by sd %.1f only", ch, sd)
		}
	}
}

// TestShapesDiffer: the families are different sets (so the labels are learnable).
func TestShapesDiffer(t *testing.T) {
	const n = 101
	grid := func(f int) []bool {
		var in []bool
		for y := 0; y < n; y++ {
			for x := 0; x < n; x++ {
				in = append(in, insideShape(f, 2.4*float64(x)/(n-1)-1.2, 2.4*float64(y)/(n-1)-1.2))
			}
		}
		return in
	}
	for a := 1; a < len(ShapeNames); a++ {
		ga := grid(a)
		area := 0
		for _, v := range ga {
			if v {
				area++
			}
		}
		if area < n*n/20 {
			t.Errorf("%s covers only %d of %d grid points", ShapeNames[a], area, n*n)
		}
		for b := a + 1; b < len(ShapeNames); b++ {
			diff := 0
			for i, v := range grid(b) {
				if v != ga[i] {
					diff++
				}
			}
			if diff < n*n/50 {
				t.Errorf("%s and %s differ on only %d points", ShapeNames[a], ShapeNames[b], diff)
			}
		}
	}
}
