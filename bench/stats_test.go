package bench

import (
	"math"
	"testing"
)

// The expected values are numpy's: np.percentile(x, [50, 90, 99]) (method="linear").
func TestSummarizeKnownSamples(t *testing.T) {
	for _, c := range []struct {
		name               string
		x                  []float64
		min, p50, p90, p99 float64
		max, mean, std     float64
	}{
		{"1..10 shuffled", []float64{7, 3, 10, 1, 5, 2, 9, 4, 8, 6}, 1, 5.5, 9.1, 9.91, 10, 5.5, math.Sqrt(55.0 / 6)},
		{"one sample", []float64{4.25}, 4.25, 4.25, 4.25, 4.25, 4.25, 4.25, 0},
		{"two samples", []float64{3, 1}, 1, 2, 2.8, 2.98, 3, 2, math.Sqrt2},
		// An outlier moves p99 and the mean, not the median.
		{"outlier", []float64{10, 10, 10, 10, 100}, 10, 10, 64, 96.4, 100, 28, math.Sqrt(1620)},
	} {
		s, err := Summarize(c.x)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		want := Summary{N: len(c.x), Min: c.min, P50: c.p50, P90: c.p90, P99: c.p99, Max: c.max, Mean: c.mean, Std: c.std}
		for _, f := range []struct {
			field     string
			got, want float64
		}{{"min", s.Min, want.Min}, {"p50", s.P50, want.P50}, {"p90", s.P90, want.P90}, {"p99", s.P99, want.P99},
			{"max", s.Max, want.Max}, {"mean", s.Mean, want.Mean}, {"std", s.Std, want.Std}} {
			if math.Abs(f.got-f.want) > 1e-12*math.Max(1, math.Abs(f.want)) {
				t.Errorf("%s: %s = %v, want %v", c.name, f.field, f.got, f.want)
			}
		}
		if s.N != want.N {
			t.Errorf("%s: n = %d, want %d", c.name, s.N, want.N)
		}
	}
}

func TestSummarizeLeavesInputAlone(t *testing.T) {
	x := []float64{3, 1, 2}
	if _, err := Summarize(x); err != nil {
		t.Fatal(err)
	}
	if x[0] != 3 || x[1] != 1 || x[2] != 2 {
		t.Fatalf("Summarize sorted its argument: %v", x)
	}
}

func TestSummarizeRejects(t *testing.T) {
	for _, x := range [][]float64{nil, {1, math.NaN()}, {math.Inf(1)}} {
		if _, err := Summarize(x); err == nil {
			t.Errorf("Summarize(%v): no error", x)
		}
	}
}
