package evaluate

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
)

// Overlays writes, for the first Max images Run visits, a PNG of three panels side by side:
// the image | its ground truth | the prediction, labels drawn in the dataset's palette
// (ignored pixels in the VOC ignore colour). Pass its Visit as Options.Visit.
type Overlays struct {
	Dir   string
	Max   int
	Files []string // written so far

	ds data.Dataset
}

// overlayGap is the white gap between panels, in pixels.
const overlayGap = 4

// NewOverlays creates dir (if needed) for up to max overlays of ds's images.
func NewOverlays(dir string, ds data.Dataset, max int) (*Overlays, error) {
	if max < 1 {
		return nil, fmt.Errorf("evaluate: %d overlays; want at least 1", max)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("evaluate: overlays: %w", err)
	}
	return &Overlays{Dir: dir, Max: max, ds: ds}, nil
}

// Visit draws one image's overlay while fewer than Max are written.
func (o *Overlays) Visit(index int, id string, pred []int32, label *data.Mask) error {
	if len(o.Files) >= o.Max {
		return nil
	}
	s, err := o.ds.Load(index)
	if err != nil {
		return fmt.Errorf("evaluate: overlay of %s: %w", id, err)
	}
	if s.Image.W != label.W || s.Image.H != label.H || len(pred) != label.W*label.H {
		return fmt.Errorf("evaluate: overlay of %s: image %dx%d, mask %dx%d, %d predicted pixels", id, s.Image.W, s.Image.H, label.W, label.H, len(pred))
	}
	w, h := label.W, label.H
	canvas := image.NewRGBA(image.Rect(0, 0, 3*w+2*overlayGap, h))
	draw.Draw(canvas, canvas.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(canvas, image.Rect(0, 0, w, h), s.Image.RGBA(), image.Point{}, draw.Src)
	pal := o.ds.Palette()
	colour := func(l int) color.RGBA {
		if l >= 0 && l < len(pal) {
			return pal[l]
		}
		return data.IgnoreColour
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			canvas.SetRGBA(w+overlayGap+x, y, colour(int(label.Pix[i])))
			canvas.SetRGBA(2*(w+overlayGap)+x, y, colour(int(pred[i])))
		}
	}
	path := filepath.Join(o.Dir, fmt.Sprintf("%04d_%s.png", index, safeName(id)))
	if err := atomicfile.Write(path, 0o644, func(w io.Writer) error { return png.Encode(w, canvas) }); err != nil {
		return fmt.Errorf("evaluate: overlay: %w", err)
	}
	o.Files = append(o.Files, path)
	return nil
}

// safeName turns an image ID ("synthetic/val/3", "2007_000033") into a file name part.
func safeName(id string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, id)
}
