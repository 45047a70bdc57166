package data

import (
	"fmt"
	"math"
)

// Box is an axis-aligned rectangle in continuous pixel coordinates: pixel (i, j) covers
// [i, i+1)×[j, j+1), so the whole of a W×H image is Box{0, 0, W, H}.
type Box struct{ X0, Y0, X1, Y1 float64 }

// W and H are the box's width and height.
func (b Box) W() float64 { return b.X1 - b.X0 }
func (b Box) H() float64 { return b.Y1 - b.Y0 }

// Contains reports whether (x, y) lies in the half-open box.
func (b Box) Contains(x, y float64) bool { return x >= b.X0 && x < b.X1 && y >= b.Y0 && y < b.Y1 }

func (b Box) String() string { return fmt.Sprintf("[%.1f,%.1f)x[%.1f,%.1f)", b.X0, b.X1, b.Y0, b.Y1) }

// Geometry says where a view's pixels come from in its source image. It is an axis-aligned
// affine map, which is closed under every geometric step here (crop, resize, flip, pad), so
// the steps compose it exactly: view point (u, v) (continuous, pixel centres at +0.5) lies at
// source point (X0 + u·SX, Y0 + v·SY). A negative SX means the view is mirrored.
type Geometry struct {
	W, H       int // view size
	SrcW, SrcH int // source image size
	X0, Y0     float64
	SX, SY     float64
}

// Identity is the geometry of an untouched w×h image.
func Identity(w, h int) Geometry { return Geometry{W: w, H: h, SrcW: w, SrcH: h, SX: 1, SY: 1} }

// FromBox is the geometry of a w×h view resampled from box of a srcW×srcH image, mirrored
// when flip is set (the usual RandomResizedCrop + flip description of a view).
func FromBox(box Box, flip bool, w, h, srcW, srcH int) Geometry {
	g := Geometry{W: w, H: h, SrcW: srcW, SrcH: srcH,
		X0: box.X0, Y0: box.Y0, SX: box.W() / float64(w), SY: box.H() / float64(h)}
	if flip {
		g = g.flip()
	}
	return g
}

// ToSource maps a view point to the source image.
func (g Geometry) ToSource(u, v float64) (x, y float64) { return g.X0 + u*g.SX, g.Y0 + v*g.SY }

// FromSource maps a source point into view coordinates (possibly outside the view).
func (g Geometry) FromSource(x, y float64) (u, v float64) {
	return (x - g.X0) / g.SX, (y - g.Y0) / g.SY
}

// Flipped reports whether the view is mirrored left–right relative to the source.
func (g Geometry) Flipped() bool { return g.SX < 0 }

// Box is the source rectangle the whole view covers (it may extend past the source where a
// segmentation crop was padded).
func (g Geometry) Box() Box { return g.BoxToSource(Box{0, 0, float64(g.W), float64(g.H)}) }

// BoxToSource maps a rectangle in view coordinates to the source rectangle it covers.
func (g Geometry) BoxToSource(b Box) Box {
	x0, y0 := g.ToSource(b.X0, b.Y0)
	x1, y1 := g.ToSource(b.X1, b.Y1)
	return Box{math.Min(x0, x1), math.Min(y0, y1), math.Max(x0, x1), math.Max(y0, y1)}
}

// crop is the geometry of a w×h view resampled from box (in this view's coordinates).
func (g Geometry) crop(box Box, w, h int) Geometry {
	out := g
	out.W, out.H = w, h
	out.X0, out.Y0 = g.X0+box.X0*g.SX, g.Y0+box.Y0*g.SY
	out.SX, out.SY = g.SX*box.W()/float64(w), g.SY*box.H()/float64(h)
	return out
}

// flip mirrors the view: new u' = W − u.
func (g Geometry) flip() Geometry {
	out := g
	out.X0 = g.X0 + float64(g.W)*g.SX
	out.SX = -g.SX
	return out
}
