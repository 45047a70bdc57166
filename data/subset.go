package data

import (
	"fmt"
	"image/color"
	"slices"
	"strconv"
	"strings"
)

// Labels is how much of a labelled training split a run may use: all of it (the zero value),
// a fraction ("1/8", "0.125") or a count ("100"). It is the --labels flag of `train seg`, as
// the semi-supervised segmentation literature takes 1/16, 1/8, … of VOC's labelled images.
type Labels struct {
	Fraction float64 // in (0, 1]; 0 with Count 0 means all
	Count    int     // a number of images; used when > 0
	text     string  // as the user wrote it, for names and errors
}

// ParseLabels reads a --labels value: "" or "all", a fraction "P/Q" or a decimal in (0, 1],
// or a whole number of images ≥ 1 (so "1" is one image; "1/1" or "1.0" is the whole split).
func ParseLabels(s string) (Labels, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return Labels{}, nil
	}
	bad := func() (Labels, error) {
		return Labels{}, fmt.Errorf("data: --labels %q: want a fraction of the train split (1/8, 0.125), a number of images (100) or all", s)
	}
	if p, q, ok := strings.Cut(s, "/"); ok {
		a, err1 := strconv.Atoi(p)
		b, err2 := strconv.Atoi(q)
		if err1 != nil || err2 != nil || a < 1 || b < a {
			return bad()
		}
		return Labels{Fraction: float64(a) / float64(b), text: s}, nil
	}
	if n, err := strconv.Atoi(s); err == nil {
		if n < 1 {
			return bad()
		}
		return Labels{Count: n, text: s}, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0 && f <= 1) {
		return bad()
	}
	return Labels{Fraction: f, text: s}, nil
}

// All reports whether l keeps the whole split.
func (l Labels) All() bool { return l.Count == 0 && (l.Fraction == 0 || l.Fraction == 1) }

// String is the value as given ("all" for the whole split).
func (l Labels) String() string {
	if l.All() {
		return "all"
	}
	return l.text
}

// Of returns how many of n images l keeps: ⌊fraction·n⌋ (at least 1), as the literature's
// 1/8 of VOC's 1464 images is 183, or the count. A count above n is an error.
func (l Labels) Of(n int) (int, error) {
	switch {
	case l.All():
		return n, nil
	case l.Count > 0:
		if l.Count > n {
			return 0, fmt.Errorf("data: --labels %s: the train split has only %d images", l.text, n)
		}
		return l.Count, nil
	}
	return max(1, int(l.Fraction*float64(n)+1e-9)), nil
}

// LabelSubset returns the indices (ascending) of the k of n images that a run keeps at a
// seed: the first k of a seeded permutation of 0…n-1. It depends only on (n, k, seed), so
// every row of a grid at one seed, and every process, fine-tunes on the same images; and
// a smaller subset at a seed lies inside a larger one (1/16 ⊂ 1/8), as nested splits do.
func LabelSubset(n, k int, seed uint64) []int {
	perm := NewRNG(seed, labelSubsetKey, uint64(n)).Perm(n)
	idx := slices.Clone(perm[:k])
	slices.Sort(idx)
	return idx
}

// labelSubsetKey keeps the subset's generator apart from the loader's and the
// augmentations' generators at the same seed.
const labelSubsetKey = 0x6c6162656c73 // "labels"

// Subset is the dataset restricted to LabelSubset's images; a split that l keeps whole is
// returned as it is.
func Subset(ds Dataset, l Labels, seed uint64) (Dataset, error) {
	if l.All() {
		return ds, nil
	}
	k, err := l.Of(ds.Len())
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, ds.Name())
	}
	return &subset{ds: ds, idx: LabelSubset(ds.Len(), k, seed),
		name: fmt.Sprintf("%s, labels %s: %d of %d images (seed %d)", ds.Name(), l, k, ds.Len(), seed)}, nil
}

type subset struct {
	ds   Dataset
	idx  []int
	name string
}

func (s *subset) Name() string               { return s.name }
func (s *subset) Len() int                   { return len(s.idx) }
func (s *subset) Load(i int) (Sample, error) { return s.ds.Load(s.idx[i]) }
func (s *subset) Classes() []string          { return s.ds.Classes() }
func (s *subset) Palette() []color.RGBA      { return s.ds.Palette() }
func (s *subset) skipped() int               { return Skipped(s.ds) }

// Indices are the kept images' indices in the full split, ascending.
func (s *subset) Indices() []int { return s.idx }
