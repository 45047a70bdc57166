package metrics

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"
)

// Scores are the segmentation metrics of one confusion matrix, as fractions in [0, 1].
// Per-class values are NaN where the class is undefined (see the package documentation).
type Scores struct {
	MIoU     float64   // mean IoU over classes with a defined IoU
	MeanAcc  float64   // mean class accuracy over classes present in the labels (mAcc)
	PixelAcc float64   // correctly predicted pixels / counted pixels (aAcc)
	IoU      []float64 // per class; NaN: absent from labels and predictions
	Acc      []float64 // per class; NaN: absent from the labels
	Pixels   int64     // pixels counted (ignored ones excluded)
}

// Scores computes the metrics from the counts so far. With no pixels counted every score is NaN.
func (c *Confusion) Scores() Scores {
	k := c.K
	s := Scores{IoU: make([]float64, k), Acc: make([]float64, k)}
	var correct int64
	for cl := 0; cl < k; cl++ {
		var labelled, predicted int64
		for j := 0; j < k; j++ {
			labelled += c.Counts[cl*k+j]
			predicted += c.Counts[j*k+cl]
		}
		inter := c.Counts[cl*k+cl]
		correct += inter
		s.Pixels += labelled
		s.IoU[cl] = ratio(inter, labelled+predicted-inter)
		s.Acc[cl] = ratio(inter, labelled)
	}
	s.MIoU = nanMean(s.IoU)
	s.MeanAcc = nanMean(s.Acc)
	s.PixelAcc = ratio(correct, s.Pixels)
	return s
}

func ratio(a, b int64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

// nanMean is numpy's nanmean: the mean of the values that are not NaN, NaN if there are none.
func nanMean(v []float64) float64 {
	sum, n := 0.0, 0
	for _, x := range v {
		if !math.IsNaN(x) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

// Table formats per-class IoU and accuracy (×100, two decimals, "–" where undefined) and the
// summary line. names gives the class names; missing names are shown as class indices.
func (s Scores) Table(names []string) string {
	label := func(i int) string {
		if i < len(names) && names[i] != "" {
			return names[i]
		}
		return fmt.Sprint(i)
	}
	width := len("class")
	for i := range s.IoU {
		width = max(width, utf8.RuneCountInString(label(i)))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%-*s  %7s  %7s\n", width, "class", "IoU", "Acc")
	for i := range s.IoU {
		fmt.Fprintf(&b, "%-*s  %7s  %7s\n", width, label(i), percent(s.IoU[i]), percent(s.Acc[i]))
	}
	fmt.Fprintf(&b, "mIoU %s  mAcc %s  aAcc %s  (%d pixels)\n", percent(s.MIoU), percent(s.MeanAcc), percent(s.PixelAcc), s.Pixels)
	return b.String()
}

func percent(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", 100*v)
}

// jsonScores is Scores as JSON: NaN, which JSON cannot hold, becomes null.
type jsonScores struct {
	MIoU     *float64   `json:"miou"`
	MeanAcc  *float64   `json:"mean_acc"`
	PixelAcc *float64   `json:"pixel_acc"`
	IoU      []*float64 `json:"iou"`
	Acc      []*float64 `json:"acc"`
	Pixels   int64      `json:"pixels"`
}

// MarshalJSON writes the scores with null for undefined (NaN) values.
func (s Scores) MarshalJSON() ([]byte, error) {
	return json.Marshal(jsonScores{nullable(s.MIoU), nullable(s.MeanAcc), nullable(s.PixelAcc), nullables(s.IoU), nullables(s.Acc), s.Pixels})
}

// UnmarshalJSON reads what MarshalJSON writes (null back to NaN).
func (s *Scores) UnmarshalJSON(data []byte) error {
	var j jsonScores
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("metrics: scores: %w", err)
	}
	*s = Scores{MIoU: fromNullable(j.MIoU), MeanAcc: fromNullable(j.MeanAcc), PixelAcc: fromNullable(j.PixelAcc),
		IoU: fromNullables(j.IoU), Acc: fromNullables(j.Acc), Pixels: j.Pixels}
	return nil
}

func nullable(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func nullables(v []float64) []*float64 {
	out := make([]*float64, len(v))
	for i, x := range v {
		out[i] = nullable(x)
	}
	return out
}

func fromNullable(p *float64) float64 {
	if p == nil {
		return math.NaN()
	}
	return *p
}

func fromNullables(p []*float64) []float64 {
	out := make([]float64, len(p))
	for i, x := range p {
		out[i] = fromNullable(x)
	}
	return out
}
