package data

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVOCLoads: the fixture opens from the VOCdevkit folder, lists the right splits, has
// VOC's classes and palette, and every mask (palette, index, aug or not) reads back exactly,
// ignore pixels included; image colours agree with the labels.
func TestVOCLoads(t *testing.T) {
	dir, masks := vocFixture(t)
	train, err := Open("voc:"+dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	val, err := Open("voc:"+dir, Options{Split: "val"})
	if err != nil {
		t.Fatal(err)
	}
	if train.Len() != 4 || val.Len() != 1 {
		t.Fatalf("train %d val %d samples, want 4 and 1", train.Len(), val.Len())
	}
	if c := train.Classes(); len(c) != 21 || c[15] != "person" || c[8] != "cat" {
		t.Fatalf("classes %v", c)
	}
	if p := train.Palette(); p[15] != vocColour(15) || p[1].R != 128 || p[1].G != 0 || p[20].G != 64 || p[20].B != 128 {
		t.Fatalf("palette %v", p)
	}
	for k := 0; k < 5; k++ {
		ds, i := train, k
		if k == 4 {
			ds, i = val, 0
		}
		s, err := ds.Load(i)
		if err != nil {
			t.Fatal(err)
		}
		want := masks[k]
		if s.Mask.W != want.W || s.Mask.H != want.H || s.Image.W != want.W {
			t.Fatalf("%s: size %dx%d, want %dx%d", s.ID, s.Mask.W, s.Mask.H, want.W, want.H)
		}
		var ignore int
		for j := range want.Pix {
			if s.Mask.Pix[j] != want.Pix[j] {
				t.Fatalf("%s: label at %d = %d, want %d", s.ID, j, s.Mask.Pix[j], want.Pix[j])
			}
			if s.Mask.Pix[j] == Ignore {
				ignore++
			}
		}
		if ignore == 0 {
			t.Fatalf("%s: no ignore pixels read", s.ID)
		}
		// A pixel well inside the person block is yellow in the JPEG.
		if r, g, b := s.Image.At(12, 10); r < 200 || g < 170 || b > 80 {
			t.Fatalf("%s: person pixel colour (%v,%v,%v), want about (230,200,40)", s.ID, r, g, b)
		}
	}
}

// TestVOCBadFiles: each kind of bad file fails with an error naming it; with SkipBad it is
// a counted warning instead and the loader replaces the sample.
func TestVOCBadFiles(t *testing.T) {
	root := func(dir string) string { return filepath.Join(dir, "VOC2012") }
	id := "2007_000001"
	cases := []struct {
		name   string
		breaks func(t *testing.T, root string)
		atOpen bool
		want   []string // substrings of the error
	}{
		{"unreadable JPEG", func(t *testing.T, r string) {
			os.WriteFile(filepath.Join(r, "JPEGImages", id+".jpg"), []byte("\xff\xd8 not really a jpeg"), 0o644)
		}, false, []string{id + ".jpg", "decoding image"}},
		{"mask size", func(t *testing.T, r string) {
			writeIndexMask(t, filepath.Join(r, "SegmentationClassAug", id+".png"), NewMask(10, 10, 0))
		}, false, []string{id + ".png", "mask is 10x10", "42x30"}},
		{"label out of range", func(t *testing.T, r string) {
			m := fixtureMask(1, 42, 30)
			m.Pix[3*42+30] = 21
			writeIndexMask(t, filepath.Join(r, "SegmentationClassAug", id+".png"), m)
		}, false, []string{id + ".png", "label 21 at (30,3)", "[0,21)"}},
		{"colour mask off the palette", func(t *testing.T, r string) {
			img := image.NewRGBA(image.Rect(0, 0, 42, 30))
			for i := range img.Pix {
				img.Pix[i] = 77
			}
			writeFile(t, filepath.Join(r, "SegmentationClassAug", id+".png"), func(f *os.File) error { return encodePNG(f, img) })
		}, false, []string{id + ".png", "not in the palette"}},
		{"missing image", func(t *testing.T, r string) {
			os.Remove(filepath.Join(r, "JPEGImages", id+".jpg"))
		}, true, []string{"train_aug.txt:2", id, "no image"}},
		{"missing mask", func(t *testing.T, r string) {
			os.Remove(filepath.Join(r, "SegmentationClassAug", id+".png"))
		}, true, []string{"train_aug.txt:2", id, "no mask"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir, _ := vocFixture(t)
			c.breaks(t, root(dir))
			ds, err := Open("voc:"+dir, Options{})
			if err == nil {
				_, err = ds.Load(1)
			}
			if err == nil || (c.atOpen != (ds == nil)) {
				t.Fatalf("error %v (at open: %v), want one at open=%v", err, ds == nil, c.atOpen)
			}
			if !IsBadFile(err) {
				t.Errorf("%v is not a *FileError", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}

			if !c.atOpen { // the loader passes the error on, naming the file
				ds, _ := Open("voc:"+dir, Options{})
				l, err := NewLoader(ds, DefaultSegTrain(16), LoaderConfig{Batch: 4, Workers: 2})
				if err != nil {
					t.Fatal(err)
				}
				_, err = l.Next()
				l.Close()
				if !IsBadFile(err) || !strings.Contains(err.Error(), id) {
					t.Fatalf("loader error %v; want the bad file %s", err, id)
				}
			}

			var warnings []error
			ds, err = Open("voc:"+dir, Options{SkipBad: true, Warn: func(e error) { warnings = append(warnings, e) }})
			if err != nil {
				t.Fatal(err)
			}
			l, err := NewLoader(ds, SegEval{W: 32, H: 32, Mean: ImageNetMean, Std: ImageNetStd}, LoaderConfig{Batch: 4, Epochs: 1, Workers: 2})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			b, err := l.Next()
			if err != nil {
				t.Fatal(err)
			}
			wantLen, wantSkipped := 4, 1
			if c.atOpen {
				wantLen, wantSkipped = 3, 0 // dropped from the list when opening
			}
			if len(b.IDs) != wantLen || b.Skipped != wantSkipped || Skipped(ds) != 1 || len(warnings) != 1 {
				t.Fatalf("SkipBad: batch %v skipped %d, dataset skipped %d, %d warnings; want %d items, %d skipped, 1, 1",
					b.IDs, b.Skipped, Skipped(ds), len(warnings), wantLen, wantSkipped)
			}
			if !strings.Contains(warnings[0].Error(), id) {
				t.Errorf("warning %q does not name %s", warnings[0], id)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ spec, want string }{
		{"imagenet:/x", `unknown kind "imagenet"`},
		{"voc:", "missing directory"},
		{"voc:" + dir, "no JPEGImages/"},
		{"synthetic:classes=1", "classes=1 is outside [2, 8]"},
		{"synthetic:size=abc", `size="abc" is not an integer`},
		{"synthetic:colour=red", `unknown key "colour"`},
		{"synthetic:n=5,n=6", `key "n" given twice`},
		{"synthetic:n", `"n" is not key=value`},
		{"cutpaste:objects=" + dir, "want cutpaste:objects=DIR,backgrounds=DIR"},
		{"cutpaste:objects=" + dir + ",backgrounds=" + dir, "no category folders"},
		{"folder:" + dir, "no .jpg, .jpeg or .png"},
		{"seg:" + dir, "classes.txt"},
	} {
		_, err := Open(c.spec, Options{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Open(%q) = %v, want an error containing %q", c.spec, err, c.want)
		}
		var se *SpecError
		if strings.HasPrefix(c.want, "unknown") && !errors.As(err, &se) {
			t.Errorf("Open(%q): %T is not a *SpecError", c.spec, err)
		}
	}
}
