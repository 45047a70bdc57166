package data

import (
	"image"
	"image/color"
)

// Image is an RGB image stored as three float32 planes (all of R, then G, then B), the layout
// of one item of an NCHW batch. Values are 0–255 until a Normalize step runs.
type Image struct {
	W, H int
	Pix  []float32 // len 3*W*H
}

// NewImage returns a black w×h image.
func NewImage(w, h int) *Image { return &Image{W: w, H: h, Pix: make([]float32, 3*w*h)} }

// Plane returns channel c (0 R, 1 G, 2 B) as a slice of Pix.
func (m *Image) Plane(c int) []float32 { n := m.W * m.H; return m.Pix[c*n : (c+1)*n] }

// At returns the three channel values of pixel (x, y).
func (m *Image) At(x, y int) (r, g, b float32) {
	n, i := m.W*m.H, y*m.W+x
	return m.Pix[i], m.Pix[n+i], m.Pix[2*n+i]
}

// Set sets pixel (x, y).
func (m *Image) Set(x, y int, r, g, b float32) {
	n, i := m.W*m.H, y*m.W+x
	m.Pix[i], m.Pix[n+i], m.Pix[2*n+i] = r, g, b
}

// Clone returns a deep copy.
func (m *Image) Clone() *Image {
	return &Image{W: m.W, H: m.H, Pix: append([]float32(nil), m.Pix...)}
}

// RGBA converts a 0–255 image to an 8-bit image for viewing (values are clamped).
func (m *Image) RGBA() *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	n := m.W * m.H
	for i := 0; i < n; i++ {
		out.Pix[4*i] = clamp8(m.Pix[i])
		out.Pix[4*i+1] = clamp8(m.Pix[n+i])
		out.Pix[4*i+2] = clamp8(m.Pix[2*n+i])
		out.Pix[4*i+3] = 255
	}
	return out
}

func clamp8(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// FromImage converts any decoded image to a planar float image (alpha is dropped).
func FromImage(src image.Image) *Image {
	b := src.Bounds()
	m := NewImage(b.Dx(), b.Dy())
	n := m.W * m.H
	if s, ok := src.(*image.YCbCr); ok { // JPEG: straight to floats, chroma offsets per row
		cx := make([]int, m.W) // chroma index offset of column x; the same on every row
		for x := range cx {
			cx[x] = s.COffset(b.Min.X+x, b.Min.Y) - s.COffset(b.Min.X, b.Min.Y)
		}
		for y := 0; y < m.H; y++ {
			yrow := s.Y[s.YOffset(b.Min.X, b.Min.Y+y):]
			c0 := s.COffset(b.Min.X, b.Min.Y+y)
			for x := 0; x < m.W; x++ {
				r, g, bb := color.YCbCrToRGB(yrow[x], s.Cb[c0+cx[x]], s.Cr[c0+cx[x]])
				i := y*m.W + x
				m.Pix[i], m.Pix[n+i], m.Pix[2*n+i] = float32(r), float32(g), float32(bb)
			}
		}
		return m
	}
	row := make([]uint8, 4*m.W)
	for y := 0; y < m.H; y++ {
		nrgbaRow(src, b.Min.Y+y, row)
		for x := 0; x < m.W; x++ {
			i := y*m.W + x
			m.Pix[i], m.Pix[n+i], m.Pix[2*n+i] = float32(row[4*x]), float32(row[4*x+1]), float32(row[4*x+2])
		}
	}
	return m
}

// nrgbaRow writes row y of src as non-premultiplied RGBA bytes into dst (len 4·width), with
// fast paths for the types image/jpeg and image/png return.
func nrgbaRow(src image.Image, y int, dst []uint8) {
	b := src.Bounds()
	w := b.Dx()
	switch s := src.(type) {
	case *image.YCbCr:
		for x := 0; x < w; x++ {
			yi, ci := s.YOffset(b.Min.X+x, y), s.COffset(b.Min.X+x, y)
			r, g, bb := color.YCbCrToRGB(s.Y[yi], s.Cb[ci], s.Cr[ci])
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = r, g, bb, 255
		}
	case *image.NRGBA:
		copy(dst, s.Pix[s.PixOffset(b.Min.X, y):][:4*w])
	case *image.Gray:
		row := s.Pix[s.PixOffset(b.Min.X, y):][:w]
		for x, v := range row {
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = v, v, v, 255
		}
	default:
		for x := 0; x < w; x++ {
			c := color.NRGBAModel.Convert(src.At(b.Min.X+x, y)).(color.NRGBA)
			dst[4*x], dst[4*x+1], dst[4*x+2], dst[4*x+3] = c.R, c.G, c.B, c.A
		}
	}
}

// Mask is a per-pixel label map: class ids, or Ignore where a pixel has no label.
type Mask struct {
	W, H int
	Pix  []uint8 // len W*H, row-major
}

// Ignore is the label of pixels that count in no loss and no metric (VOC's boundary label,
// and the padding of segmentation crops).
const Ignore = 255

// NewMask returns a w×h mask filled with v.
func NewMask(w, h int, v uint8) *Mask {
	m := &Mask{W: w, H: h, Pix: make([]uint8, w*h)}
	if v != 0 {
		for i := range m.Pix {
			m.Pix[i] = v
		}
	}
	return m
}

// Clone returns a deep copy (nil for nil).
func (m *Mask) Clone() *Mask {
	if m == nil {
		return nil
	}
	return &Mask{W: m.W, H: m.H, Pix: append([]uint8(nil), m.Pix...)}
}
