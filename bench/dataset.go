package bench

import (
	"fmt"
	"image/color"

	"github.com/ssl4dp/ssl4dp/data"
)

// noise is the dataset a training-step benchmark reads: images of uniform random pixels and
// masks of random labels — one pixel in ten ignored, background (0) for half of the others
// as in VOC, the rest uniform over the other classes — so that a few steps on one batch
// already lower the loss (a uniform label marginal would leave nothing to learn but
// memorising pixels). The step's cost does not depend on the values (scripts/bench_torch.py
// draws uniform labels), and the class count is free (synthetic scenes stop at 8 classes;
// the benchmark's network has VOC's 21).
type noise struct {
	classes int
	size    int
	n       int
	seed    uint64
}

func (d *noise) Name() string {
	return fmt.Sprintf("bench noise (%d classes, %d images of %d×%d)", d.classes, d.n, d.size, d.size)
}
func (d *noise) Len() int { return d.n }

// Classes are "class0", "class1", …: only their count matters.
func (d *noise) Classes() []string {
	names := make([]string, d.classes)
	for i := range names {
		names[i] = fmt.Sprintf("class%d", i)
	}
	return names
}

func (d *noise) Palette() []color.RGBA { return data.VOCPalette(d.classes) }

func (d *noise) Load(i int) (data.Sample, error) {
	if i < 0 || i >= d.n {
		return data.Sample{}, fmt.Errorf("bench: %s: index %d outside [0,%d)", d.Name(), i, d.n)
	}
	r := data.NewRNG(d.seed, 0xbe7c, uint64(i))
	img := data.NewImage(d.size, d.size)
	for j := range img.Pix {
		img.Pix[j] = float32(r.IntN(256))
	}
	m := data.NewMask(d.size, d.size, 0)
	for j := range m.Pix {
		switch u := r.IntN(20); {
		case u < 2:
			m.Pix[j] = data.Ignore
		case u < 11:
			m.Pix[j] = 0
		default:
			m.Pix[j] = uint8(1 + r.IntN(d.classes-1))
		}
	}
	return data.Sample{ID: fmt.Sprintf("noise/%d", i), Image: img, Mask: m}, nil
}
