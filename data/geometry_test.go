package data

import (
	"math"
	"math/rand/v2"
	"testing"
)

// randomGeometry is a view of a srcW×srcH image: a random box (sometimes reaching past the
// border, as padded segmentation crops do), a random output size, a random flip.
func randomGeometry(rng *rand.Rand, srcW, srcH int) Geometry {
	bw := uniform(rng, 0.1, 1.2) * float64(srcW)
	bh := uniform(rng, 0.1, 1.2) * float64(srcH)
	x0 := uniform(rng, -0.1*float64(srcW), float64(srcW)-0.5*bw)
	y0 := uniform(rng, -0.1*float64(srcH), float64(srcH)-0.5*bh)
	w, h := 8+rng.IntN(120), 8+rng.IntN(120)
	return FromBox(Box{x0, y0, x0 + bw, y0 + bh}, rng.IntN(2) == 1, w, h, srcW, srcH)
}

// TestCellMatchProperty: for random boxes, flips and grids, CellMatch agrees with a brute
// force search over view 2's cells: a matched cell's source footprint contains the view-1
// cell centre (mapped to the source), and −1 means no view-2 cell contains it or the centre
// lies outside the source image.
func TestCellMatchProperty(t *testing.T) {
	rng := NewRNG(42)
	trials := 2000
	if testing.Short() {
		trials = 300
	}
	var matched, unmatched int
	for trial := 0; trial < trials; trial++ {
		srcW, srcH := 20+rng.IntN(400), 20+rng.IntN(400)
		g1, g2 := randomGeometry(rng, srcW, srcH), randomGeometry(rng, srcW, srcH)
		grid1 := Grid{1 + rng.IntN(16), 1 + rng.IntN(16)}
		grid2 := Grid{1 + rng.IntN(16), 1 + rng.IntN(16)}
		match, err := CellMatch(g1, grid1, g2, grid2)
		if err != nil {
			t.Fatal(err)
		}
		src := Box{0, 0, float64(srcW), float64(srcH)}
		for i, p := range CellCentres(g1, grid1) {
			want := -1
			if src.Contains(p.X, p.Y) {
				for j := 0; j < grid2.H*grid2.W; j++ {
					if CellFootprint(g2, grid2, j).Contains(p.X, p.Y) {
						want = j
						break
					}
				}
			}
			// The footprint test is on floats: a centre within 1e-9 of a cell edge may
			// land on either side.
			if match[i] != want && !nearCellEdge(g2, grid2, p) {
				t.Fatalf("trial %d cell %d (centre %.3f,%.3f): CellMatch %d, brute force %d\ng1 %+v\ng2 %+v", trial, i, p.X, p.Y, match[i], want, g1, g2)
			}
			if match[i] >= 0 {
				matched++
				if fp := CellFootprint(g2, grid2, match[i]); !fp.Contains(p.X, p.Y) && !nearCellEdge(g2, grid2, p) {
					t.Fatalf("trial %d: cell %d's centre %v is not inside matched cell %d's footprint %v", trial, i, p, match[i], fp)
				}
			} else {
				unmatched++
			}
		}
	}
	if matched == 0 || unmatched == 0 {
		t.Fatalf("degenerate trials: %d matched, %d unmatched cells", matched, unmatched)
	}
}

func nearCellEdge(g Geometry, grid Grid, p Point) bool {
	u, v := g.FromSource(p.X, p.Y)
	fu, fv := u*float64(grid.W)/float64(g.W), v*float64(grid.H)/float64(g.H)
	return math.Abs(fu-math.Round(fu)) < 1e-9 || math.Abs(fv-math.Round(fv)) < 1e-9
}

// TestCellMatchKnown checks hand-worked cases: identical views match cell for cell; a
// mirrored copy matches mirrored cells; the right half of an image zoomed to full size
// matches only view 1's right-half cells.
func TestCellMatchKnown(t *testing.T) {
	whole := FromBox(Box{0, 0, 100, 100}, false, 64, 64, 100, 100)
	mirror := FromBox(Box{0, 0, 100, 100}, true, 64, 64, 100, 100)
	right := FromBox(Box{50, 0, 100, 100}, false, 32, 64, 100, 100)
	g := Grid{2, 4}
	for _, c := range []struct {
		name   string
		g1, g2 Geometry
		grid2  Grid
		want   []int
	}{
		{"same", whole, whole, g, []int{0, 1, 2, 3, 4, 5, 6, 7}},
		{"mirrored", whole, mirror, g, []int{3, 2, 1, 0, 7, 6, 5, 4}},
		{"right half", whole, right, Grid{2, 2}, []int{-1, -1, 0, 1, -1, -1, 2, 3}},
	} {
		got, err := CellMatch(c.g1, g, c.g2, c.grid2)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
	if _, err := CellMatch(whole, g, FromBox(Box{0, 0, 10, 10}, false, 8, 8, 50, 50), g); err == nil {
		t.Error("views of different sources: no error")
	}
	if _, err := CellMatch(whole, Grid{0, 3}, whole, g); err == nil {
		t.Error("empty grid: no error")
	}
}

// rampImage has R = x and G = y at pixel centres (x+0.5, y+0.5), B = 0: a view's pixel
// values then say where in the source it sampled.
func rampImage(w, h int) *Image {
	img := NewImage(w, h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, float32(x)+0.5, float32(y)+0.5, 0)
		}
	}
	return img
}

// TestViewGeometryMatchesPixels runs real augmentation pipelines on a coordinate ramp and
// checks that the recorded geometry says where each view pixel came from: for pixels whose
// filter support lies inside the source, the bilinear value of the ramp equals the source
// coordinate of the pixel centre. This ties CellMatch's arithmetic to the actual pixels.
func TestViewGeometryMatchesPixels(t *testing.T) {
	src := Sample{ID: "ramp", Image: rampImage(240, 180)}
	cfg := MoCoV2View(48)
	cfg.Jitter.P, cfg.GrayP, cfg.Blur.P = 0, 0, 0
	cfg.Mean, cfg.Std = [3]float32{}, [3]float32{1, 1, 1}
	cfg.FlipP = 0.5
	var flips, checked int
	for seed := uint64(0); seed < 40; seed++ {
		v := &View{Image: src.Image, Geom: Identity(240, 180)}
		if err := cfg.Pipeline().Apply(v, NewRNG(seed)); err != nil {
			t.Fatal(err)
		}
		if v.Geom.Flipped() {
			flips++
		}
		crop := v.Did[0].(CropRecord)
		if b := v.Geom.Box(); math.Abs(b.X0-crop.Box.X0) > 1e-9 || math.Abs(b.X1-crop.Box.X1) > 1e-9 {
			t.Fatalf("seed %d: geometry box %v, crop record %v", seed, b, crop.Box)
		}
		support := math.Max(1, math.Abs(v.Geom.SX)) + 1
		for y := 0; y < v.Image.H; y++ {
			for x := 0; x < v.Image.W; x++ {
				sx, sy := v.Geom.ToSource(float64(x)+0.5, float64(y)+0.5)
				if sx < support || sx > 240-support || sy < support || sy > 180-support {
					continue
				}
				r, g, _ := v.Image.At(x, y)
				// A widened triangle sampled at whole pixels has its centroid within a few
				// hundredths of a pixel of the centre; a geometry off by a pixel or a half
				// pixel (the usual bug) fails by far more.
				if math.Abs(float64(r)-sx) > 0.1 || math.Abs(float64(g)-sy) > 0.1 {
					t.Fatalf("seed %d: view pixel (%d,%d) holds source (%.3f,%.3f); geometry says (%.3f,%.3f)", seed, x, y, r, g, sx, sy)
				}
				checked++
			}
		}
	}
	if flips == 0 || flips == 40 || checked < 10000 {
		t.Fatalf("weak test: %d of 40 views flipped, %d pixels checked", flips, checked)
	}
}

// TestSegGeometryMatchesPixels does the same for the segmentation pipeline (scale, crop
// with padding, flip) and checks the labels: each label is the source label at the pixel
// centre's source position, and Ignore exactly where that position is off the image.
func TestSegGeometryMatchesPixels(t *testing.T) {
	w, h := 120, 90
	m := NewMask(w, h, 0)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Pix[y*w+x] = uint8(x/8 + 16*(y/30)) // changes every 8 columns and 30 rows
		}
	}
	s := Sample{ID: "ramp", Image: rampImage(w, h), Mask: m}
	task := DefaultSegTrain(100)
	task.Mean, task.Std = [3]float32{-1, -1, -1}, [3]float32{1, 1, 1} // normalised value = source value + 1
	var padded, flips int
	for seed := uint64(0); seed < 30; seed++ {
		it, err := task.Item(s, NewRNG(seed))
		if err != nil {
			t.Fatal(err)
		}
		v := it.Views[0]
		if v.Geom.Flipped() {
			flips++
		}
		for y := 0; y < v.Image.H; y++ {
			for x := 0; x < v.Image.W; x++ {
				sx, sy := v.Geom.ToSource(float64(x)+0.5, float64(y)+0.5)
				lab := it.Labels.Pix[y*v.Image.W+x]
				if sx < 0 || sx >= float64(w) || sy < 0 || sy >= float64(h) {
					padded++
					if lab != Ignore {
						t.Fatalf("seed %d: padded pixel (%d,%d) has label %d, want %d", seed, x, y, lab, Ignore)
					}
					continue
				}
				if want := m.Pix[int(sy)*w+int(sx)]; lab != want {
					t.Fatalf("seed %d: pixel (%d,%d) at source (%.2f,%.2f) has label %d, want %d", seed, x, y, sx, sy, lab, want)
				}
				support := math.Max(1, math.Abs(v.Geom.SX)) + 1
				if sx < support || sx > float64(w)-support || sy < support || sy > float64(h)-support {
					continue
				}
				r, g, _ := v.Image.At(x, y)
				if math.Abs(float64(r-1)-sx) > 0.1 || math.Abs(float64(g-1)-sy) > 0.1 {
					t.Fatalf("seed %d: pixel (%d,%d) holds source (%.3f,%.3f); geometry says (%.3f,%.3f)", seed, x, y, r-1, g-1, sx, sy)
				}
			}
		}
	}
	if padded == 0 || flips == 0 || flips == 30 {
		t.Fatalf("weak test: %d padded pixels, %d of 30 flipped", padded, flips)
	}
}
