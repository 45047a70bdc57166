package data

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// View is one augmented version of a sample, with everything needed to relate it back to
// the source: its geometry (crop box and flip, composed over all steps) and the record of
// each step.
type View struct {
	Image *Image
	Mask  *Mask    // segmentation labels moved with the image; nil when unlabelled
	Rot   *Mask    // PLR: per-pixel rotation class 0–3 (×90° counter-clockwise); nil otherwise
	Geom  Geometry // where the view's pixels come from in the source image
	Did   []Record // what each step did, in order
}

// NewView starts a view of a sample: the whole image, untouched. The sample's image and
// mask are copied, so steps may work in place.
func NewView(s Sample) *View {
	return &View{Image: s.Image.Clone(), Mask: s.Mask.Clone(), Geom: Identity(s.Image.W, s.Image.H)}
}

// A Step is one augmentation. Apply changes v (image, mask, geometry) using rng for every
// random choice, and returns what it did. Steps fail only on impossible settings (a patch
// grid that does not divide the view), never on image content.
type Step interface {
	Apply(v *View, rng *rand.Rand) (Record, error)
}

// A Record says what one step did; each step has its own concrete type (CropRecord,
// FlipRecord, JitterRecord, ...).
type Record interface{ String() string }

// Pipeline applies steps in order.
type Pipeline []Step

// Apply runs every step on v and appends their records to v.Did.
func (p Pipeline) Apply(v *View, rng *rand.Rand) error {
	for _, s := range p {
		r, err := s.Apply(v, rng)
		if err != nil {
			return err
		}
		v.Did = append(v.Did, r)
	}
	return nil
}

// Describe lists what a view's steps did, one per line.
func (v *View) Describe() string {
	var b strings.Builder
	for _, r := range v.Did {
		fmt.Fprintln(&b, r.String())
	}
	return b.String()
}
