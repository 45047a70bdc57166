package data

import (
	"fmt"
	"image/color"
)

// entry is one labelled sample on disk.
type entry struct{ id, image, mask string }

// fileSet is a labelled dataset read from image and mask files (voc and seg share it).
type fileSet struct {
	badFiles
	name    string
	entries []entry
	classes []string
	palette []color.RGBA
}

func (d *fileSet) Name() string          { return d.name }
func (d *fileSet) Len() int              { return len(d.entries) }
func (d *fileSet) Classes() []string     { return d.classes }
func (d *fileSet) Palette() []color.RGBA { return d.palette }

func (d *fileSet) Load(i int) (Sample, error) {
	if i < 0 || i >= len(d.entries) {
		return Sample{}, fmt.Errorf("data: %s: index %d outside [0,%d)", d.name, i, len(d.entries))
	}
	e := d.entries[i]
	s, err := loadLabelled(e, len(d.classes), d.palette)
	return s, d.bad(err)
}

func loadLabelled(e entry, classes int, pal []color.RGBA) (Sample, error) {
	img, err := readImage(e.image, 0)
	if err != nil {
		return Sample{}, err
	}
	m, err := readMask(e.mask, pal)
	if err != nil {
		return Sample{}, err
	}
	if m.W != img.W || m.H != img.H {
		return Sample{}, fileErr(e.mask, "mask is %dx%d, image %s is %dx%d", m.W, m.H, e.image, img.W, img.H)
	}
	if err := checkLabels(e.mask, m, classes); err != nil {
		return Sample{}, err
	}
	return Sample{ID: e.id, Image: img, Mask: m}, nil
}
