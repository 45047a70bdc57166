package data

import "math"

// taps are the filter weights of one axis of a resampling: output sample i reads source
// indices start[i] … start[i]+len(w[i])−1.
type taps struct {
	start []int
	w     [][]float32
}

// axisTaps computes bilinear (triangle) weights for n output samples over [b0, b1) of an
// axis of length size, antialiased when shrinking: the triangle is widened by the shrink
// factor and weights are renormalised at the borders. This is PIL's and PyTorch's
// `interpolate(..., mode="bilinear", antialias=True, align_corners=False)` rule, extended to
// a fractional source window.
func axisTaps(size int, b0, b1 float64, n int) taps {
	scale := (b1 - b0) / float64(n)
	fs := math.Max(scale, 1)
	support := fs // the triangle's support is 1, scaled
	t := taps{start: make([]int, n), w: make([][]float32, n)}
	for i := 0; i < n; i++ {
		centre := b0 + (float64(i)+0.5)*scale
		lo := max(int(centre-support+0.5), 0) // int() truncates, as in PIL
		hi := min(int(centre+support+0.5), size)
		if lo >= size { // a window past the end: use the last pixel
			lo = size - 1
		}
		if hi <= lo {
			hi = lo + 1
		}
		ws := make([]float32, hi-lo)
		var sum float64
		for j := range ws {
			x := (float64(j+lo) - centre + 0.5) / fs
			v := math.Max(0, 1-math.Abs(x))
			ws[j] = float32(v)
			sum += v
		}
		if sum == 0 { // all taps on a border: nearest pixel
			ws[len(ws)/2] = 1
			sum = 1
		}
		for j := range ws {
			ws[j] = float32(float64(ws[j]) / sum)
		}
		t.start[i], t.w[i] = lo, ws
	}
	return t
}

// resampleImage returns the w×h image resampled from box (source coordinates) of src.
func resampleImage(src *Image, box Box, w, h int) *Image {
	out := NewImage(w, h)
	resamplePlanes([][]float32{src.Plane(0), src.Plane(1), src.Plane(2)}, src.W, src.H, box,
		[][]float32{out.Plane(0), out.Plane(1), out.Plane(2)}, w, h)
	return out
}

// resamplePlanes resamples box of each srcW×srcH plane into the matching zeroed w×h plane of
// dst: a horizontal pass over the rows the vertical pass needs, then the vertical pass.
func resamplePlanes(src [][]float32, srcW, srcH int, box Box, dst [][]float32, w, h int) {
	tx := axisTaps(srcW, box.X0, box.X1, w)
	ty := axisTaps(srcH, box.Y0, box.Y1, h)
	rowLo, rowHi := ty.start[0], 0
	for i := range ty.start {
		rowLo = min(rowLo, ty.start[i])
		rowHi = max(rowHi, ty.start[i]+len(ty.w[i]))
	}
	tmp := make([]float32, (rowHi-rowLo)*w)
	for c, in := range src {
		out := dst[c]
		for y := rowLo; y < rowHi; y++ {
			row := in[y*srcW : (y+1)*srcW]
			trow := tmp[(y-rowLo)*w : (y-rowLo+1)*w]
			for x := 0; x < w; x++ {
				var s float32
				for j, wt := range tx.w[x] {
					s += wt * row[tx.start[x]+j]
				}
				trow[x] = s
			}
		}
		for y := 0; y < h; y++ {
			drow := out[y*w : (y+1)*w]
			for j, wt := range ty.w[y] {
				trow := tmp[(ty.start[y]+j-rowLo)*w:]
				for x := range drow {
					drow[x] += wt * trow[x]
				}
			}
		}
	}
}

// resampleMask is resampleImage for label maps: the nearest source pixel to each output
// pixel centre, pad where that centre falls outside the source.
func resampleMask(src *Mask, box Box, w, h int, pad uint8) *Mask {
	return nearestMask(src, box.X0, box.Y0, box.W()/float64(w), box.H()/float64(h), 0, 0, w, h, pad)
}

// nearestMask samples output pixel (u, v) at source (x0 + (ox+u+0.5)·sx, y0 + (oy+v+0.5)·sy).
// The offsets let a window of a larger resampling be computed with the very same floating
// point expression as the whole (RandomScaleCrop relies on it).
func nearestMask(src *Mask, x0, y0, sx, sy float64, ox, oy, w, h int, pad uint8) *Mask {
	out := NewMask(w, h, pad)
	xs := make([]int, w)
	for u := range xs {
		xs[u] = int(math.Floor(x0 + (float64(ox+u)+0.5)*sx))
	}
	for v := 0; v < h; v++ {
		y := int(math.Floor(y0 + (float64(oy+v)+0.5)*sy))
		if y < 0 || y >= src.H {
			continue
		}
		for u, x := range xs {
			if x >= 0 && x < src.W {
				out.Pix[v*w+u] = src.Pix[y*src.W+x]
			}
		}
	}
	return out
}

// flipImage mirrors img left–right in place.
func flipImage(img *Image) {
	for y := 0; y < img.H*3; y++ { // the three planes are 3H rows of W
		row := img.Pix[y*img.W : (y+1)*img.W]
		for i, j := 0, len(row)-1; i < j; i, j = i+1, j-1 {
			row[i], row[j] = row[j], row[i]
		}
	}
}

// flipMask mirrors m left–right in place.
func flipMask(m *Mask) {
	for y := 0; y < m.H; y++ {
		row := m.Pix[y*m.W : (y+1)*m.W]
		for i, j := 0, len(row)-1; i < j; i, j = i+1, j-1 {
			row[i], row[j] = row[j], row[i]
		}
	}
}

// cropPadImage returns the w×h window of img whose top-left is (x0, y0), which may reach
// past the border; outside pixels get fill.
func cropPadImage(img *Image, x0, y0, w, h int, fill [3]float32) *Image {
	out := NewImage(w, h)
	for c := 0; c < 3; c++ {
		in, dst := img.Plane(c), out.Plane(c)
		for i := range dst {
			dst[i] = fill[c]
		}
		for v := 0; v < h; v++ {
			y := y0 + v
			if y < 0 || y >= img.H {
				continue
			}
			xa, xb := max(0, x0), min(img.W, x0+w)
			if xa < xb {
				copy(dst[v*w+xa-x0:v*w+xb-x0], in[y*img.W+xa:y*img.W+xb])
			}
		}
	}
	return out
}

// cropPadMask is cropPadImage for label maps.
func cropPadMask(m *Mask, x0, y0, w, h int, fill uint8) *Mask {
	out := NewMask(w, h, fill)
	for v := 0; v < h; v++ {
		y := y0 + v
		if y < 0 || y >= m.H {
			continue
		}
		xa, xb := max(0, x0), min(m.W, x0+w)
		if xa < xb {
			copy(out.Pix[v*w+xa-x0:v*w+xb-x0], m.Pix[y*m.W+xa:y*m.W+xb])
		}
	}
	return out
}

// ResizeImage resamples the whole image to w×h (antialiased bilinear).
func ResizeImage(img *Image, w, h int) *Image {
	return resampleImage(img, Box{0, 0, float64(img.W), float64(img.H)}, w, h)
}

// ResizeMask resamples a label map to w×h by nearest neighbour (pixel centres).
func ResizeMask(m *Mask, w, h int) *Mask {
	return resampleMask(m, Box{0, 0, float64(m.W), float64(m.H)}, w, h, Ignore)
}
