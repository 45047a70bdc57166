package data

import (
	"fmt"
	"io"
	"text/tabwriter"
)

// Summary describes a dataset split: image count and sizes, and for labelled data the pixel
// frequency of each class and how many images contain it.
type Summary struct {
	Name                   string
	Images                 int // images read
	Total                  int // images in the split
	MinW, MinH, MaxW, MaxH int
	Classes                []string
	Pixels                 []int64 // per class
	Ignore                 int64   // pixels labelled Ignore
	Present                []int   // images containing each class
	Skipped                int     // bad files skipped (Options.SkipBad)
}

// Stats reads up to limit samples of ds (all when limit ≤ 0), spread evenly over it.
func Stats(ds Dataset, limit int) (*Summary, error) {
	n := ds.Len()
	if limit <= 0 || limit > n {
		limit = n
	}
	s := &Summary{Name: ds.Name(), Total: n, Classes: ds.Classes()}
	s.Pixels = make([]int64, len(s.Classes))
	s.Present = make([]int, len(s.Classes))
	seen := make([]bool, len(s.Classes))
	for k := 0; k < limit; k++ {
		smp, err := ds.Load(k * n / limit)
		if IsSkippedErr(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		w, h := smp.Image.W, smp.Image.H
		if s.Images == 0 {
			s.MinW, s.MinH, s.MaxW, s.MaxH = w, h, w, h
		}
		s.MinW, s.MinH, s.MaxW, s.MaxH = min(s.MinW, w), min(s.MinH, h), max(s.MaxW, w), max(s.MaxH, h)
		s.Images++
		if smp.Mask == nil {
			continue
		}
		clear(seen)
		for _, v := range smp.Mask.Pix {
			if v == Ignore {
				s.Ignore++
			} else if int(v) < len(s.Pixels) {
				s.Pixels[v]++
				seen[v] = true
			}
		}
		for c, ok := range seen {
			if ok {
				s.Present[c]++
			}
		}
	}
	s.Skipped = Skipped(ds)
	return s, nil
}

// IsSkippedErr reports whether err marks a bad file skipped under Options.SkipBad.
func IsSkippedErr(err error) bool { return err != nil && isSkip(err) }

// Write prints the summary as a table.
func (s *Summary) Write(w io.Writer) error {
	fmt.Fprintf(w, "%s\n", s.Name)
	fmt.Fprintf(w, "images: %d read of %d; size %dx%d to %dx%d", s.Images, s.Total, s.MinW, s.MinH, s.MaxW, s.MaxH)
	if s.Skipped > 0 {
		fmt.Fprintf(w, "; %d bad files skipped", s.Skipped)
	}
	fmt.Fprintln(w)
	if len(s.Classes) == 0 {
		_, err := fmt.Fprintln(w, "unlabelled")
		return err
	}
	var total int64 = s.Ignore
	for _, p := range s.Pixels {
		total += p
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "label\tclass\tpixels %\timages\t")
	for c, name := range s.Classes {
		fmt.Fprintf(tw, "%d\t%s\t%.2f\t%d\t\n", c, name, pct(s.Pixels[c], total), s.Present[c])
	}
	fmt.Fprintf(tw, "%d\t%s\t%.2f\t\t\n", Ignore, "ignore", pct(s.Ignore, total))
	return tw.Flush()
}

func pct(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return 100 * float64(a) / float64(b)
}
