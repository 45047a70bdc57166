package data

import (
	"image"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSegDir: the generic layout with classes.txt, masks matched by stem (palette and index
// PNGs), explicit split lists, and the hash split when there are none.
func TestSegDir(t *testing.T) {
	dir := t.TempDir()
	writeText(t, filepath.Join(dir, "classes.txt"), "background", "lesion", "", "vessel")
	var stems []string
	for k := 0; k < 12; k++ {
		stem := "scan" + string(rune('a'+k))
		stems = append(stems, stem)
		m := NewMask(16, 12, 0)
		m.Pix[5] = uint8(k % 3)
		m.Pix[6] = Ignore
		if k%2 == 0 {
			writePaletteMask(t, filepath.Join(dir, "masks", stem+".png"), m)
		} else {
			writeIndexMask(t, filepath.Join(dir, "masks", stem+".png"), m)
		}
		img := fixtureImage(NewMask(16, 12, 0))
		if k == 3 {
			writeFile(t, filepath.Join(dir, "images", stem+".png"), func(f *os.File) error { return encodePNG(f, img) })
		} else {
			writeJPEG(t, filepath.Join(dir, "images", stem+".jpg"), img)
		}
	}
	train, err := Open("seg:"+dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	val, err := Open("seg:"+dir, Options{Split: "val"})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len()+val.Len() != 12 || val.Len() != 1 || !slices.Equal(train.Classes(), []string{"background", "lesion", "vessel"}) {
		t.Fatalf("hash split %d/%d, classes %v", train.Len(), val.Len(), train.Classes())
	}
	for i := 0; i < train.Len(); i++ {
		s, err := train.Load(i)
		if err != nil {
			t.Fatal(err)
		}
		k := int(s.ID[4] - 'a')
		if s.Mask.Pix[5] != uint8(k%3) || s.Mask.Pix[6] != Ignore {
			t.Fatalf("%s: labels %v", s.ID, s.Mask.Pix[:8])
		}
	}
	// With split files, they decide; a listed stem without an image is an error naming the list.
	writeText(t, filepath.Join(dir, "splits", "train.txt"), stems[:3]...)
	writeText(t, filepath.Join(dir, "splits", "val.txt"), stems[3], "nosuch")
	if ds, err := Open("seg:"+dir, Options{}); err != nil || ds.Len() != 3 {
		t.Fatalf("split list: %v, %v", ds, err)
	}
	_, err = Open("seg:"+dir, Options{Split: "val"})
	if err == nil || !strings.Contains(err.Error(), "val.txt:2") || !strings.Contains(err.Error(), "nosuch") {
		t.Fatalf("missing entry: %v", err)
	}
	// A label ≥ the class count is a bad file.
	m := NewMask(16, 12, 3)
	writeIndexMask(t, filepath.Join(dir, "masks", stems[0]+".png"), m)
	ds, _ := Open("seg:"+dir, Options{})
	if _, err := ds.Load(0); err == nil || !strings.Contains(err.Error(), "label 3 at (0,0) is outside [0,3)") {
		t.Fatalf("bad label: %v", err)
	}
}

// TestFolder: every JPEG/PNG below the folder, sorted by relative path, unlabelled; hidden
// folders and other files are ignored; MaxSide shrinks big images.
func TestFolder(t *testing.T) {
	dir := t.TempDir()
	img := fixtureImage(NewMask(64, 40, 0))
	writeJPEG(t, filepath.Join(dir, "b", "x.JPG"), img)
	writeFile(t, filepath.Join(dir, "a.png"), func(f *os.File) error { return encodePNG(f, img) })
	writeJPEG(t, filepath.Join(dir, ".cache", "y.jpg"), img)
	writeText(t, filepath.Join(dir, "notes.txt"), "hi")
	ds, err := Open("folder:"+dir, Options{MaxSide: 30})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 2 || ds.Classes() != nil || Labelled(ds) {
		t.Fatalf("len %d classes %v", ds.Len(), ds.Classes())
	}
	s, err := ds.Load(1)
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != filepath.Join("b", "x.JPG") || s.Mask != nil || s.Image.W != 21 || s.Image.H != 13 {
		t.Fatalf("sample %s %dx%d", s.ID, s.Image.W, s.Image.H)
	}
	if r, g, b := s.Image.At(10, 6); abs32(r-20) > 8 || abs32(g-120) > 8 || abs32(b-200) > 8 {
		t.Fatalf("shrunk colour (%v,%v,%v), want about (20,120,200)", r, g, b)
	}
}

// cutpasteFixture: two categories ("cat": red discs, "dog": blue squares with a soft
// edge), a folder with only an SVG (ignored), two backgrounds (green JPEG, gray PNG).
func cutpasteFixture(t testing.TB) (objects, backgrounds string) {
	dir := t.TempDir()
	objects, backgrounds = filepath.Join(dir, "stamps"), filepath.Join(dir, "bg")
	disc := image.NewNRGBA(image.Rect(0, 0, 60, 60))
	for y := 0; y < 60; y++ {
		for x := 0; x < 60; x++ {
			if dx, dy := float64(x)-29.5, float64(y)-29.5; dx*dx+dy*dy < 28*28 {
				disc.SetNRGBA(x, y, color.NRGBA{250, 20, 20, 255})
			} else {
				disc.SetNRGBA(x, y, color.NRGBA{0, 255, 0, 0}) // transparent, with a colour that must not bleed
			}
		}
	}
	square := image.NewNRGBA(image.Rect(0, 0, 50, 30))
	for y := 0; y < 30; y++ {
		for x := 0; x < 50; x++ {
			a := uint8(255)
			if x < 2 || y < 2 || x > 47 || y > 27 {
				a = 100
			}
			square.SetNRGBA(x, y, color.NRGBA{20, 20, 250, a})
		}
	}
	writeFile(t, filepath.Join(objects, "cat", "disc.png"), func(f *os.File) error { return encodePNG(f, disc) })
	writeFile(t, filepath.Join(objects, "cat", "big", "disc2.png"), func(f *os.File) error { return encodePNG(f, disc) })
	writeFile(t, filepath.Join(objects, "dog", "square.png"), func(f *os.File) error { return encodePNG(f, square) })
	writeText(t, filepath.Join(objects, "vector", "drawing.svg"), "<svg/>")
	green := image.NewRGBA(image.Rect(0, 0, 300, 200))
	gray := image.NewRGBA(image.Rect(0, 0, 120, 160))
	for i := range green.Pix {
		green.Pix[i] = []uint8{30, 160, 40, 255}[i%4]
		if i < len(gray.Pix) {
			gray.Pix[i] = []uint8{128, 128, 128, 255}[i%4]
		}
	}
	writeJPEG(t, filepath.Join(backgrounds, "green.jpg"), green)
	writeFile(t, filepath.Join(backgrounds, "sub", "gray.png"), func(f *os.File) error { return encodePNG(f, gray) })
	return objects, backgrounds
}

// TestCutPaste: classes come from the folders, masks from alpha: class pixels carry the
// cut-out's colour (no green fringe from transparent pixels), background pixels the
// background's; scenes are deterministic.
func TestCutPaste(t *testing.T) {
	objects, backgrounds := cutpasteFixture(t)
	spec := "cutpaste:objects=" + objects + ",backgrounds=" + backgrounds + ",size=48,n=40"
	ds, err := Open(spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Classes(), []string{"background", "cat", "dog"}) || ds.Len() != 40 {
		t.Fatalf("classes %v len %d", ds.Classes(), ds.Len())
	}
	counts := make([]int, 3)
	for i := 0; i < 40; i++ {
		s, err := ds.Load(i)
		if err != nil {
			t.Fatal(err)
		}
		bad := 0
		for j, v := range s.Mask.Pix {
			r, g, b := s.Image.At(j%48, j/48)
			counts[v]++
			var ok bool
			switch v {
			case 0: // green or gray, possibly a soft object edge (alpha < 0.5)
				ok = g >= r-5 || (r < 200 && b < 200)
			case 1: // red, possibly blended at the edge with what lies below (alpha ≥ 0.5)
				ok = r > 125 && g < 125
			case 2:
				ok = b > 125 && g < 130
			default:
				t.Fatalf("%s: label %d", s.ID, v)
			}
			if !ok {
				bad++
				t.Logf("%s (%d,%d): label %d, colour (%.0f,%.0f,%.0f)", s.ID, j%48, j/48, v, r, g, b)
			}
		}
		if bad > 0 {
			t.Fatalf("%s: %d pixels whose colour does not fit their label", s.ID, bad)
		}
	}
	if counts[1] == 0 || counts[2] == 0 {
		t.Fatalf("pixel counts %v", counts)
	}
	again, _ := Open(spec, Options{})
	a, _ := ds.Load(7)
	b, _ := again.Load(7)
	if !slices.Equal(a.Image.Pix, b.Image.Pix) || !slices.Equal(a.Mask.Pix, b.Mask.Pix) {
		t.Fatal("same spec and index, different scenes")
	}
}

// TestCutPasteBadFile: a broken cut-out is an error naming it; with SkipBad one warning
// and the scene uses the category's next file.
func TestCutPasteBadFile(t *testing.T) {
	objects, backgrounds := cutpasteFixture(t)
	bad := filepath.Join(objects, "dog", "broken.png")
	writeText(t, bad, "not a png")
	spec := "cutpaste:objects=" + objects + ",backgrounds=" + backgrounds + ",size=32,n=30"
	ds, _ := Open(spec, Options{})
	var err error
	for i := 0; i < 30 && err == nil; i++ {
		_, err = ds.Load(i)
	}
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("error %v does not name %s", err, bad)
	}
	var warns int
	ds, _ = Open(spec, Options{SkipBad: true, Warn: func(error) { warns++ }})
	for i := 0; i < 30; i++ {
		if _, err := ds.Load(i); err != nil {
			t.Fatal(err)
		}
	}
	if warns != 1 || Skipped(ds) != 1 {
		t.Fatalf("%d warnings, %d skipped; want 1", warns, Skipped(ds))
	}
}
