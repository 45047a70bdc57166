package data

import (
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureMask is the label map of fixture image k (w×h): background, a person (15) block,
// a cat (8) block for odd k, and a one-pixel ignore (255) border around the person, as VOC
// draws object outlines.
func fixtureMask(k, w, h int) *Mask {
	m := NewMask(w, h, 0)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			switch {
			case x >= 5 && x < 20 && y >= 4 && y < 18:
				m.Pix[y*w+x] = 15
			case x >= 4 && x < 21 && y >= 3 && y < 19:
				m.Pix[y*w+x] = Ignore
			case k%2 == 1 && x >= 25 && y >= 20:
				m.Pix[y*w+x] = 8
			}
		}
	}
	return m
}

// fixtureImage paints each label's region a flat colour, so the decoded JPEG can be
// checked against the mask.
func fixtureImage(m *Mask) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for i, v := range m.Pix {
		c := map[uint8]color.RGBA{0: {20, 120, 200, 255}, 15: {230, 200, 40, 255}, 8: {200, 30, 60, 255}, Ignore: {240, 240, 240, 255}}[v]
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = c.R, c.G, c.B, 255
	}
	return img
}

func writeFile(t testing.TB, path string, write func(f *os.File) error) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := write(f); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeJPEG(t testing.TB, path string, img image.Image) {
	writeFile(t, path, func(f *os.File) error { return jpeg.Encode(f, img, &jpeg.Options{Quality: 95}) })
}

// writePaletteMask writes m as a palette PNG with the VOC colours (what VOC ships).
func writePaletteMask(t testing.TB, path string, m *Mask) {
	pal := make(color.Palette, 256)
	for i := range pal {
		pal[i] = vocColour(i)
	}
	img := image.NewPaletted(image.Rect(0, 0, m.W, m.H), pal)
	copy(img.Pix, m.Pix)
	writeFile(t, path, func(f *os.File) error { return png.Encode(f, img) })
}

// writeIndexMask writes m as an 8-bit grayscale PNG (what SBD's SegmentationClassAug has).
func writeIndexMask(t testing.TB, path string, m *Mask) {
	img := image.NewGray(image.Rect(0, 0, m.W, m.H))
	copy(img.Pix, m.Pix)
	writeFile(t, path, func(f *os.File) error { return png.Encode(f, img) })
}

func writeText(t testing.TB, path string, lines ...string) {
	writeFile(t, path, func(f *os.File) error { _, err := f.WriteString(strings.Join(lines, "\n") + "\n"); return err })
}

// vocFixture writes a VOC2012 tree inside a VOCdevkit folder: five images; train_aug lists
// 0–3 (masks in SegmentationClassAug, palette for even, index for odd), val lists 4 (its
// mask only in SegmentationClass, palette). It returns the VOCdevkit path and the masks.
func vocFixture(t *testing.T) (string, []*Mask) {
	dir := t.TempDir()
	root := filepath.Join(dir, "VOCdevkit", "VOC2012")
	var masks []*Mask
	var ids []string
	for k := 0; k < 5; k++ {
		id := "2007_00000" + string(rune('0'+k))
		ids = append(ids, id)
		w, h := 40+2*k, 30
		m := fixtureMask(k, w, h)
		masks = append(masks, m)
		writeJPEG(t, filepath.Join(root, "JPEGImages", id+".jpg"), fixtureImage(m))
		switch {
		case k == 4:
			writePaletteMask(t, filepath.Join(root, "SegmentationClass", id+".png"), m)
		case k%2 == 0:
			writePaletteMask(t, filepath.Join(root, "SegmentationClassAug", id+".png"), m)
		default:
			writeIndexMask(t, filepath.Join(root, "SegmentationClassAug", id+".png"), m)
		}
	}
	lists := filepath.Join(root, "ImageSets", "Segmentation")
	writeText(t, filepath.Join(lists, "train_aug.txt"), ids[:4]...)
	writeText(t, filepath.Join(lists, "val.txt"), ids[4])
	return filepath.Join(dir, "VOCdevkit"), masks
}

func encodePNG(f *os.File, img image.Image) error { return png.Encode(f, img) }
