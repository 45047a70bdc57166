package experiment

import (
	"math"
	"slices"
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
	// PairedLo, PairedHi are the 95% confidence interval of the mean per-seed difference
	// (PairedDelta ± t₀.₉₇₅(PairedN−1)·sd/√PairedN, as fractions); it excludes 0 exactly when
	// PairedBeyond. NaN when not PairedTested.
	PairedLo, PairedHi float64
}

// Comparisons compares every row with the first row, with the row it continues (From) and
// with the rows it names in Against, head by head, where both have finished cells.
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
		for _, name := range append([]string{r.From}, r.Against...) {
			if b := byName[name]; b != nil && b != r && !slices.Contains(bases, b) {
				bases = append(bases, b)
			}
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
				var se float64
				c.PairedN, c.PairedDelta, se, c.PairedT, c.PairedTested = paired(a, b)
				c.PairedLo, c.PairedHi = math.NaN(), math.NaN()
				if c.PairedTested {
					crit := tCritical(float64(c.PairedN - 1))
					c.PairedBeyond = math.Abs(c.PairedT) > crit
					c.PairedLo, c.PairedHi = c.PairedDelta-crit*se, c.PairedDelta+crit*se
				}
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
// sides only): the mean difference over its standard error se, with n−1 degrees of freedom.
// ok is false with fewer than two pairs or identical differences.
func paired(a, b TableCell) (n int, mean, se, t float64, ok bool) {
	var d []float64
	for i := range a.MIoU {
		if i < len(b.MIoU) && !math.IsNaN(a.MIoU[i]) && !math.IsNaN(b.MIoU[i]) {
			d = append(d, a.MIoU[i]-b.MIoU[i])
		}
	}
	n = len(d)
	if n == 0 {
		return 0, math.NaN(), math.NaN(), 0, false
	}
	mean, std := meanStd(d)
	if n < 2 || !(std > 0) {
		return n, mean, math.NaN(), 0, false
	}
	se = std / math.Sqrt(float64(n))
	return n, mean, se, mean / se, true
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
