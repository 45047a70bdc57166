package data

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register the decoders Open's datasets read
	_ "image/png"
	"os"
)

// decodeFile decodes a JPEG or PNG file. Errors are *FileError values naming the file.
func decodeFile(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &FileError{File: path, Err: err}
	}
	defer f.Close()
	img, _, err := image.Decode(bufio.NewReader(f))
	if err != nil {
		return nil, fileErr(path, "decoding image: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1 || b.Dy() < 1 {
		return nil, fileErr(path, "image is empty (%dx%d)", b.Dx(), b.Dy())
	}
	return img, nil
}

// readImage decodes path as an RGB image; when maxSide > 0 an image with a longer side is
// first shrunk by an integer box filter (so a 6000-pixel wallpaper never becomes a 400 MB
// float image).
func readImage(path string, maxSide int) (*Image, error) {
	img, err := decodeFile(path)
	if err != nil {
		return nil, err
	}
	if maxSide > 0 && max(img.Bounds().Dx(), img.Bounds().Dy()) > maxSide {
		return FromImage(shrink(img, maxSide)), nil
	}
	return FromImage(img), nil
}

// readNRGBA decodes path keeping alpha, shrunk as readImage does.
func readNRGBA(path string, maxSide int) (*image.NRGBA, error) {
	img, err := decodeFile(path)
	if err != nil {
		return nil, err
	}
	if maxSide > 0 && max(img.Bounds().Dx(), img.Bounds().Dy()) > maxSide {
		return shrink(img, maxSide), nil
	}
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		nrgbaRow(img, b.Min.Y+y, out.Pix[y*out.Stride:])
	}
	return out, nil
}

// shrink reduces src by the smallest integer factor k that brings its longer side to at most
// maxSide, averaging k×k blocks. Colours are averaged weighted by alpha, so transparent
// pixels (whose colour is arbitrary) do not bleed into the edge of a cut-out.
func shrink(src image.Image, maxSide int) *image.NRGBA {
	b := src.Bounds()
	k := (max(b.Dx(), b.Dy()) + maxSide - 1) / maxSide
	w, h := max(1, b.Dx()/k), max(1, b.Dy()/k)
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	acc := make([]float64, 4*w) // premultiplied r, g, b and alpha sums
	row := make([]uint8, 4*b.Dx())
	for oy := 0; oy < h; oy++ {
		clear(acc)
		for dy := 0; dy < k; dy++ {
			nrgbaRow(src, b.Min.Y+oy*k+dy, row)
			for ox := 0; ox < w; ox++ {
				for dx := 0; dx < k; dx++ {
					p := row[4*(ox*k+dx):]
					a := float64(p[3])
					acc[4*ox] += float64(p[0]) * a
					acc[4*ox+1] += float64(p[1]) * a
					acc[4*ox+2] += float64(p[2]) * a
					acc[4*ox+3] += a
				}
			}
		}
		dst := out.Pix[oy*out.Stride:]
		for ox := 0; ox < w; ox++ {
			a := acc[4*ox+3]
			if a > 0 {
				dst[4*ox] = uint8(acc[4*ox]/a + 0.5)
				dst[4*ox+1] = uint8(acc[4*ox+1]/a + 0.5)
				dst[4*ox+2] = uint8(acc[4*ox+2]/a + 0.5)
			}
			dst[4*ox+3] = uint8(a/float64(k*k) + 0.5)
		}
	}
	return out
}

// readMask decodes a label PNG: an index (grayscale) or palette PNG whose pixel values are
// class ids. An RGB mask is accepted when pal is given and every colour is in it (some tools
// save VOC masks as RGB).
func readMask(path string, pal []color.RGBA) (*Mask, error) {
	img, err := decodeFile(path)
	if err != nil {
		return nil, err
	}
	b := img.Bounds()
	m := NewMask(b.Dx(), b.Dy(), 0)
	switch s := img.(type) {
	case *image.Paletted:
		for y := 0; y < m.H; y++ {
			copy(m.Pix[y*m.W:(y+1)*m.W], s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.Gray:
		for y := 0; y < m.H; y++ {
			copy(m.Pix[y*m.W:(y+1)*m.W], s.Pix[s.PixOffset(b.Min.X, b.Min.Y+y):])
		}
	case *image.Gray16:
		for y := 0; y < m.H; y++ {
			for x := 0; x < m.W; x++ {
				v := s.Gray16At(b.Min.X+x, b.Min.Y+y).Y
				if v > 255 {
					return nil, fileErr(path, "label %d at (%d,%d) does not fit a class id (0–254, 255 = ignore)", v, x, y)
				}
				m.Pix[y*m.W+x] = uint8(v)
			}
		}
	default:
		if pal == nil {
			return nil, fileErr(path, "mask is a colour image (%T); want an index (grayscale) or palette PNG whose values are class ids", img)
		}
		if err := maskFromColours(img, pal, m); err != nil {
			return nil, &FileError{File: path, Err: err}
		}
	}
	return m, nil
}

func maskFromColours(img image.Image, pal []color.RGBA, m *Mask) error {
	index := make(map[[3]uint8]uint8, len(pal))
	for i := len(pal) - 1; i >= 0; i-- {
		index[[3]uint8{pal[i].R, pal[i].G, pal[i].B}] = uint8(i)
	}
	b := img.Bounds()
	row := make([]uint8, 4*m.W)
	for y := 0; y < m.H; y++ {
		nrgbaRow(img, b.Min.Y+y, row)
		for x := 0; x < m.W; x++ {
			c := [3]uint8{row[4*x], row[4*x+1], row[4*x+2]}
			v, ok := index[c]
			if !ok {
				return fmt.Errorf("colour %v at (%d,%d) is not in the palette; want an index or palette PNG", c, x, y)
			}
			m.Pix[y*m.W+x] = v
		}
	}
	return nil
}

// checkLabels verifies that every label is a class id in [0, classes) or Ignore.
func checkLabels(path string, m *Mask, classes int) error {
	for i, v := range m.Pix {
		if int(v) >= classes && v != Ignore {
			return fileErr(path, "label %d at (%d,%d) is outside [0,%d) and not %d (ignore)", v, i%m.W, i/m.W, classes, Ignore)
		}
	}
	return nil
}
