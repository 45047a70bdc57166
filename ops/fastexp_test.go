package ops

import (
	"math"
	"testing"
)

// exp32 against math.Exp over a dense sweep of [−104, 0]: every 64th float32 of the range
// (17.5M values, so every exponent and every region of the table and the polynomial), runs
// of consecutive values where things change, and the special values. The error is measured in ulps of the float32 nearest the exact value (the
// spacing of subnormals below 2^−126), and relatively where the result is normal.
func TestExp32(t *testing.T) {
	step := uint32(64)
	if testing.Short() {
		step = 1024
	}
	var worstULP, worstRel float64
	var atULP, atRel float32
	check := func(x float32) {
		got, want := float64(exp32(x)), math.Exp(float64(x))
		d := math.Abs(got - want)
		ulp := math.Max(math.Abs(float64(math.Nextafter32(float32(want), 0))-float64(float32(want))), 0x1p-149)
		if e := d / ulp; e > worstULP || math.IsNaN(e) {
			worstULP, atULP = e, x
		}
		if want >= 0x1p-126 {
			if e := d / want; e > worstRel || math.IsNaN(e) {
				worstRel, atRel = e, x
			}
		}
	}
	neg104 := math.Float32bits(-104)
	for b := uint32(0x80000000); b <= neg104; b += step {
		check(math.Float32frombits(b))
	}
	check(-104)
	// Runs of consecutive float32s where things change: near 0, across a table step and
	// the reduction's rounding boundary, below the normal range, at the underflow to 0.
	run := 1 << 20
	if testing.Short() {
		run = 1 << 14
	}
	for _, from := range []float32{0, -1, -0.5 * math.Ln2 / exp32N, -87.34, -103.3, -103.98} {
		x := from
		for range run {
			check(x)
			x = math.Nextafter32(x, -1e9)
		}
	}
	t.Logf("exp32 over [-104, 0]: max error %.3f ulp (at %g), max relative error %.3g where normal (at %g)", worstULP, atULP, worstRel, atRel)
	if worstULP > 0.6 {
		t.Errorf("exp32(%g): error %.3f ulp, want ≤ 0.6", atULP, worstULP)
	}
	if worstRel > 1.5e-7 {
		t.Errorf("exp32(%g): relative error %.3g, want ≤ 1.5e-7", atRel, worstRel)
	}

	for _, c := range []struct{ x, want float32 }{
		{0, 1},
		{float32(math.Copysign(0, -1)), 1},
		{float32(math.Inf(-1)), 0},
		{-104, 0},
		{-1e30, 0},
		{-math.MaxFloat32, 0},
		{-103.98, 0},        // e^x < 2^−150: rounds to 0
		{-103.27, 0x1p-149}, // the smallest subnormal
		{1, float32(math.E)},
		{88, float32(math.Exp(88))},
	} {
		if got := exp32(c.x); got != c.want {
			t.Errorf("exp32(%g) = %g, want %g", c.x, got, c.want)
		}
	}
	for _, x := range []float32{float32(math.NaN()), -float32(math.NaN())} {
		if got := exp32(x); !math.IsNaN(float64(got)) {
			t.Errorf("exp32(NaN) = %g, want NaN", got)
		}
	}
}

// BenchmarkExp32 times exp32 the way the softmax kernels use it, in a loop over a slice,
// against math.Exp.
func BenchmarkExp32(b *testing.B) {
	x, y := make([]float32, 4096), make([]float32, 4096)
	for i := range x {
		x[i] = -float32(i%1000) / 50
	}
	perExp := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(x)), "ns/exp")
	}
	b.Run("exp32", func(b *testing.B) {
		k := exp32Params
		for range b.N {
			for i, v := range x {
				y[i] = float32(k.at(v))
			}
		}
		perExp(b)
	})
	b.Run("math.Exp", func(b *testing.B) {
		for range b.N {
			for i, v := range x {
				y[i] = float32(math.Exp(float64(v)))
			}
		}
		perExp(b)
	})
}
