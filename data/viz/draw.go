// Package viz draws what a model sees: augmented views with their label maps, rotation
// labels and crop boxes, tiled into one preview image (`ssl4dp data preview`).
package viz

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/ssl4dp/ssl4dp/data"
)

// Tile is one cell of a preview grid: an image shown at a known scale, so overlays drawn in
// the shown image's source coordinates land in the right place.
type Tile struct {
	Img    *image.RGBA
	Scale  float64 // tile pixels per source pixel
	Off    image.Point
	SrcW   int
	SrcH   int
	Labels *data.Mask // shown label map (nearest-resized to the tile), if any
}

// Fit shows img scaled to fit a side×side tile, centred, keeping its aspect ratio.
func Fit(img *data.Image, side int) *Tile {
	s := math.Min(float64(side)/float64(img.W), float64(side)/float64(img.H))
	w, h := max(1, int(math.Round(float64(img.W)*s))), max(1, int(math.Round(float64(img.H)*s)))
	t := &Tile{Img: image.NewRGBA(image.Rect(0, 0, side, side)), Scale: s, SrcW: img.W, SrcH: img.H,
		Off: image.Pt((side-w)/2, (side-h)/2)}
	draw.Draw(t.Img, t.Img.Bounds(), image.NewUniform(color.RGBA{40, 40, 40, 255}), image.Point{}, draw.Src)
	var shown *image.RGBA
	if w == img.W && h == img.H {
		shown = img.RGBA()
	} else if w > img.W { // enlarging: nearest neighbour keeps pixels visible as pixels
		shown = nearest(img.RGBA(), w, h)
	} else {
		shown = data.ResizeImage(img, w, h).RGBA()
	}
	draw.Draw(t.Img, image.Rectangle{t.Off, t.Off.Add(image.Pt(w, h))}, shown, image.Point{}, draw.Src)
	return t
}

func nearest(src *image.RGBA, w, h int) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, w, h))
	sw, sh := src.Rect.Dx(), src.Rect.Dy()
	for y := 0; y < h; y++ {
		sy := min(sh-1, int((float64(y)+0.5)*float64(sh)/float64(h)))
		for x := 0; x < w; x++ {
			sx := min(sw-1, int((float64(x)+0.5)*float64(sw)/float64(w)))
			copy(out.Pix[out.PixOffset(x, y):][:4], src.Pix[src.PixOffset(sx, sy):][:4])
		}
	}
	return out
}

// Overlay blends a label map over the tile: each label's colour from pal at opacity alpha;
// label 0 (background) is left clear, Ignore is drawn in the VOC ignore colour.
func (t *Tile) Overlay(m *data.Mask, pal []color.RGBA, alpha float64, skipZero bool) {
	w, h := int(math.Round(float64(t.SrcW)*t.Scale)), int(math.Round(float64(t.SrcH)*t.Scale))
	mm := data.ResizeMask(m, w, h)
	t.Labels = mm
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			v := mm.Pix[y*w+x]
			var c color.RGBA
			switch {
			case v == 0 && skipZero:
				continue
			case v == data.Ignore:
				c = data.IgnoreColour
			case int(v) < len(pal):
				c = pal[v]
			default:
				c = color.RGBA{255, 0, 255, 255}
			}
			o := t.Img.PixOffset(x+t.Off.X, y+t.Off.Y)
			p := t.Img.Pix[o : o+3]
			p[0] = uint8(float64(p[0])*(1-alpha) + float64(c.R)*alpha)
			p[1] = uint8(float64(p[1])*(1-alpha) + float64(c.G)*alpha)
			p[2] = uint8(float64(p[2])*(1-alpha) + float64(c.B)*alpha)
		}
	}
}

// ToTile maps a point in the shown image's pixel coordinates to tile pixels.
func (t *Tile) ToTile(x, y float64) (int, int) {
	return t.Off.X + int(math.Floor(x*t.Scale)), t.Off.Y + int(math.Floor(y*t.Scale))
}

// Box draws a rectangle given in the shown image's coordinates, thickness 2; the edge at
// x0 is drawn 5 pixels thick when marked, to show which side is the view's left.
func (t *Tile) Box(b data.Box, c color.RGBA, markLeftAt float64) {
	x0, y0 := t.ToTile(b.X0, b.Y0)
	x1, y1 := t.ToTile(b.X1, b.Y1)
	fill(t.Img, image.Rect(x0, y0, x1, y0+2), c)
	fill(t.Img, image.Rect(x0, y1-2, x1, y1), c)
	fill(t.Img, image.Rect(x0, y0, x0+2, y1), c)
	fill(t.Img, image.Rect(x1-2, y0, x1, y1), c)
	if !math.IsNaN(markLeftAt) {
		mx, _ := t.ToTile(markLeftAt, 0)
		if mx >= x1-1 {
			mx = x1 - 5
		}
		fill(t.Img, image.Rect(mx, y0, mx+5, y1), c)
	}
}

// Dot draws a filled square of side 2r+1 with a black outline at shown-image point (x, y).
func (t *Tile) Dot(x, y float64, r int, c color.RGBA) {
	px, py := t.ToTile(x, y)
	fill(t.Img, image.Rect(px-r-1, py-r-1, px+r+2, py+r+2), color.RGBA{0, 0, 0, 255})
	fill(t.Img, image.Rect(px-r, py-r, px+r+1, py+r+1), c)
}

// GridLines draws n×n equal cells' borders over the shown image.
func (t *Tile) GridLines(n int, c color.RGBA) {
	for i := 1; i < n; i++ {
		x, _ := t.ToTile(float64(i)*float64(t.SrcW)/float64(n), 0)
		_, y := t.ToTile(0, float64(i)*float64(t.SrcH)/float64(n))
		x0, y0 := t.ToTile(0, 0)
		x1, y1 := t.ToTile(float64(t.SrcW), float64(t.SrcH))
		fill(t.Img, image.Rect(x, y0, x+1, y1), c)
		fill(t.Img, image.Rect(x0, y, x1, y+1), c)
	}
}

func fill(dst *image.RGBA, r image.Rectangle, c color.RGBA) {
	draw.Draw(dst, r.Intersect(dst.Bounds()), image.NewUniform(c), image.Point{}, draw.Src)
}

// Sheet lays tiles out in rows with a gap.
func Sheet(rows [][]*Tile, side, gap int) *image.RGBA {
	cols := 0
	for _, r := range rows {
		cols = max(cols, len(r))
	}
	out := image.NewRGBA(image.Rect(0, 0, cols*(side+gap)+gap, len(rows)*(side+gap)+gap))
	fill(out, out.Bounds(), color.RGBA{255, 255, 255, 255})
	for i, r := range rows {
		for j, t := range r {
			at := image.Pt(gap+j*(side+gap), gap+i*(side+gap))
			draw.Draw(out, image.Rectangle{at, at.Add(image.Pt(side, side))}, t.Img, image.Point{}, draw.Src)
		}
	}
	return out
}

// Distinct returns n well-separated colours (hues around the wheel) for marking cells.
func Distinct(n int) []color.RGBA {
	out := make([]color.RGBA, n)
	for i := range out {
		h := float64(i) / float64(n)
		r, g, b := hsv(h, 0.9, 1)
		out[i] = color.RGBA{r, g, b, 255}
	}
	return out
}

func hsv(h, s, v float64) (uint8, uint8, uint8) {
	i := math.Floor(h * 6)
	f := h*6 - i
	p, q, t := v*(1-s), v*(1-s*f), v*(1-s*(1-f))
	var r, g, b float64
	switch int(i) % 6 {
	case 0:
		r, g, b = v, t, p
	case 1:
		r, g, b = q, v, p
	case 2:
		r, g, b = p, v, t
	case 3:
		r, g, b = p, q, v
	case 4:
		r, g, b = t, p, v
	default:
		r, g, b = v, p, q
	}
	return uint8(255 * r), uint8(255 * g), uint8(255 * b)
}
