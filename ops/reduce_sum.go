package ops

import "math"

// Channel sums for BatchNorm and bias gradients, accumulated in float64.
//
// One accumulator serialises every addition on the previous one (the add's latency, about 4
// cycles); eight independent accumulators, combined in a fixed tree at the end, keep the
// floating-point adders busy. The order of the additions depends only on the length of the
// slice, so the result is the same on every run and for any number of CPUs.

// sumF64 returns Σ xs[i] in float64.
func sumF64[T Float](xs []T) float64 {
	var s [8]float64
	i := 0
	for ; i+8 <= len(xs); i += 8 {
		v := xs[i : i+8 : i+8]
		s[0] += float64(v[0])
		s[1] += float64(v[1])
		s[2] += float64(v[2])
		s[3] += float64(v[3])
		s[4] += float64(v[4])
		s[5] += float64(v[5])
		s[6] += float64(v[6])
		s[7] += float64(v[7])
	}
	for j := 0; i < len(xs); i, j = i+1, j+1 {
		s[j] += float64(xs[i])
	}
	return combine8(&s)
}

// sumSqDevF64 returns Σ (xs[i] − mean)² in float64.
func sumSqDevF64[T Float](xs []T, mean float64) float64 {
	var s [8]float64
	i := 0
	for ; i+8 <= len(xs); i += 8 {
		v := xs[i : i+8 : i+8]
		d0, d1, d2, d3 := float64(v[0])-mean, float64(v[1])-mean, float64(v[2])-mean, float64(v[3])-mean
		d4, d5, d6, d7 := float64(v[4])-mean, float64(v[5])-mean, float64(v[6])-mean, float64(v[7])-mean
		s[0] += d0 * d0
		s[1] += d1 * d1
		s[2] += d2 * d2
		s[3] += d3 * d3
		s[4] += d4 * d4
		s[5] += d5 * d5
		s[6] += d6 * d6
		s[7] += d7 * d7
	}
	for j := 0; i < len(xs); i, j = i+1, j+1 {
		d := float64(xs[i]) - mean
		s[j] += d * d
	}
	return combine8(&s)
}

// combine8 adds eight partial sums in a fixed tree.
func combine8(s *[8]float64) float64 {
	return ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]))
}

// dotDevSumF64 returns Σ g[i]·(xs[i] − mean) and Σ g[i] in float64 in one pass (BatchNorm's
// dscale and dbias); g is at least as long as xs.
func dotDevSumF64[T Float](g, xs []T, mean float64) (dot, sum float64) {
	var d, s [4]float64
	g = g[:len(xs)]
	i := 0
	for ; i+4 <= len(xs); i += 4 {
		v, w := xs[i:i+4:i+4], g[i:i+4:i+4]
		g0, g1, g2, g3 := float64(w[0]), float64(w[1]), float64(w[2]), float64(w[3])
		d[0] += g0 * (float64(v[0]) - mean)
		d[1] += g1 * (float64(v[1]) - mean)
		d[2] += g2 * (float64(v[2]) - mean)
		d[3] += g3 * (float64(v[3]) - mean)
		s[0] += g0
		s[1] += g1
		s[2] += g2
		s[3] += g3
	}
	for j := 0; i < len(xs); i, j = i+1, j+1 {
		gi := float64(g[i])
		d[j] += gi * (float64(xs[i]) - mean)
		s[j] += gi
	}
	return (d[0] + d[1]) + (d[2] + d[3]), (s[0] + s[1]) + (s[2] + s[3])
}

// maskedDotDevSum is dotDevSumF64 with g[i] counted only where y[i] > 0 (BatchNormRelu: the
// ReLU's gradient mask), as a bit mask rather than a branch (see reluBackward).
func maskedDotDevSum[T Float](g, y, xs []T, mean float64) (dot, sum float64) {
	if x32, ok := any(xs).([]float32); ok {
		return maskedDotDevSum32(any(g).([]float32), any(y).([]float32), x32, mean)
	}
	return maskedDotDevSum64(any(g).([]float64), any(y).([]float64), any(xs).([]float64), mean)
}

func maskedDotDevSum32(g, y, xs []float32, mean float64) (dot, sum float64) {
	var d, s [4]float64
	g, y = g[:len(xs)], y[:len(xs)]
	for i, v := range xs {
		gi := float64(math.Float32frombits(math.Float32bits(g[i]) & positiveMask32(y[i])))
		d[i&3] += gi * (float64(v) - mean)
		s[i&3] += gi
	}
	return (d[0] + d[1]) + (d[2] + d[3]), (s[0] + s[1]) + (s[2] + s[3])
}

func maskedDotDevSum64(g, y, xs []float64, mean float64) (dot, sum float64) {
	var d, s [4]float64
	g, y = g[:len(xs)], y[:len(xs)]
	for i, v := range xs {
		gi := math.Float64frombits(math.Float64bits(g[i]) & positiveMask64(y[i]))
		d[i&3] += gi * (v - mean)
		s[i&3] += gi
	}
	return (d[0] + d[1]) + (d[2] + d[3]), (s[0] + s[1]) + (s[2] + s[3])
}

// maskedInputGrad writes BatchNormRelu's dx = k·g + c1·x + c0 with g = dy where y > 0.
func maskedInputGrad[T Float](dy, y, xs, out []T, k, c1, c0 float64) {
	if x32, ok := any(xs).([]float32); ok {
		g, yy, o := any(dy).([]float32)[:len(x32)], any(y).([]float32)[:len(x32)], any(out).([]float32)[:len(x32)]
		for j, v := range x32 {
			gj := math.Float32frombits(math.Float32bits(g[j]) & positiveMask32(yy[j]))
			o[j] = float32(k*float64(gj) + c1*float64(v) + c0)
		}
		return
	}
	x64 := any(xs).([]float64)
	g, yy, o := any(dy).([]float64)[:len(x64)], any(y).([]float64)[:len(x64)], any(out).([]float64)[:len(x64)]
	for j, v := range x64 {
		gj := math.Float64frombits(math.Float64bits(g[j]) & positiveMask64(yy[j]))
		o[j] = k*gj + c1*v + c0
	}
}
