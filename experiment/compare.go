package experiment

import (
	"math"
)

// Comparison is one row's mean mIoU against another row's, for one head: does the difference
// exceed what the seeds spread? Two tests answer. Welch's t-test treats the two rows' seeds
// as independent samples. The paired t-test uses that they are not: a seed fixes the
// fine-tuning's head initialisation, data order and augmentation (and a shared pre-training
// stage), so seed k of one row and seed k of the other differ only by the pre-training; the
// per-seed differences then remove what the seed does to both, which is often most of the
// spread.
type Comparison struct {
	Row, Base, Head string
	Delta           float64 // mean(Row) − mean(Base), as a fraction
	Tested          bool    // both sides have at least two seeds with a spread
	T, DF           float64 // Welch's t and its Welch–Satterthwaite degrees of freedom
	Beyond          bool    // |T| exceeds the two-sided 5% critical value for DF

	PairedTested bool    // at least two seeds finished on both sides, and their differences vary
	PairedN      int     // seeds finished on both sides
	PairedDelta  float64 // mean of the per-seed differences (equals Delta when every seed finished on both)
	PairedT      float64 // paired t: mean difference over its standard error; PairedN−1 degrees of freedom
	PairedBeyond bool    // |PairedT| exceeds the two-sided 5% critical value
}

// Comparisons compares every row with the first row and with the row it continues (From),
// head by head, where both have finished cells.
func (t *Table) Comparisons() []Comparison {
	if len(t.Rows) < 2 {
		return nil
	}
	byName := map[string]*TableRow{}
	for i := range t.Rows {
		byName[t.Rows[i].Name] = &t.Rows[i]
	}
	first := &t.Rows[0]
	var out []Comparison
	for i := 1; i < len(t.Rows); i++ {
		r := &t.Rows[i]
		bases := []*TableRow{first}
		if b := byName[r.From]; b != nil && b != first {
			bases = append(bases, b)
		}
		for _, base := range bases {
			for h := range r.Cells {
				a, b := r.Cells[h], base.Cells[h]
				if a.N == 0 || b.N == 0 {
					continue
				}
				c := Comparison{Row: r.Name, Base: base.Name, Head: a.Head, Delta: a.Mean - b.Mean}
				c.T, c.DF, c.Tested = welch(a, b)
				c.Beyond = c.Tested && math.Abs(c.T) > tCritical(c.DF)
				c.PairedN, c.PairedDelta, c.PairedT, c.PairedTested = paired(a, b)
				c.PairedBeyond = c.PairedTested && math.Abs(c.PairedT) > tCritical(float64(c.PairedN-1))
				out = append(out, c)
			}
		}
	}
	return out
}

// welch is Welch's t statistic for the difference of two cells' means and its degrees of
// freedom; ok is false without at least two values and some spread.
func welch(a, b TableCell) (t, df float64, ok bool) {
	if a.N < 2 || b.N < 2 {
		return 0, 0, false
	}
	va, vb := a.Std*a.Std/float64(a.N), b.Std*b.Std/float64(b.N)
	se := math.Sqrt(va + vb)
	if !(se > 0) {
		return 0, 0, false
	}
	t = (a.Mean - b.Mean) / se
	df = (va + vb) * (va + vb) / (va*va/float64(a.N-1) + vb*vb/float64(b.N-1))
	return t, df, true
}

// paired is the paired t statistic of two cells' per-seed values (seeds finished on both
// sides only): the mean difference over its standard error, with n−1 degrees of freedom.
// ok is false with fewer than two pairs or identical differences.
func paired(a, b TableCell) (n int, mean, t float64, ok bool) {
	var d []float64
	for i := range a.MIoU {
		if i < len(b.MIoU) && !math.IsNaN(a.MIoU[i]) && !math.IsNaN(b.MIoU[i]) {
			d = append(d, a.MIoU[i]-b.MIoU[i])
		}
	}
	n = len(d)
	if n == 0 {
		return 0, math.NaN(), 0, false
	}
	mean, std := meanStd(d)
	if n < 2 || !(std > 0) {
		return n, mean, 0, false
	}
	return n, mean, mean / (std / math.Sqrt(float64(n))), true
}

// tCritical is the two-sided 5% critical value of Student's t with df degrees of freedom
// (rounded down to a tabulated df, which errs on the strict side).
func tCritical(df float64) float64 {
	table := []struct{ df, t float64 }{
		{1, 12.706}, {2, 4.303}, {3, 3.182}, {4, 2.776}, {5, 2.571}, {6, 2.447}, {7, 2.365}, {8, 2.306},
		{9, 2.262}, {10, 2.228}, {12, 2.179}, {15, 2.131}, {20, 2.086}, {30, 2.042}, {60, 2.000}, {120, 1.980},
	}
	crit := table[0].t
	if df < 1 {
		return math.Inf(1)
	}
	for _, e := range table {
		if df >= e.df {
			crit = e.t
		}
	}
	return crit
}
