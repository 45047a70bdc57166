package bench

import (
	"fmt"
	"math"
	"slices"
)

// Summary describes repeated timings of one thing, in the unit of the samples (the JSON
// field that holds it names the unit: latency_ms, step_s).
type Summary struct {
	N    int     `json:"n"`
	Min  float64 `json:"min"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"` // sample standard deviation (n−1); 0 for one sample
}

// Summarize computes the Summary of samples (which it does not modify).
func Summarize(samples []float64) (Summary, error) {
	if len(samples) == 0 {
		return Summary{}, fmt.Errorf("bench: summary of no samples")
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	for _, v := range s {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Summary{}, fmt.Errorf("bench: summary: sample %v is not a finite number", v)
		}
	}
	sum := 0.0
	for _, v := range s {
		sum += v
	}
	mean := sum / float64(len(s))
	ss := 0.0
	for _, v := range s {
		ss += (v - mean) * (v - mean)
	}
	std := 0.0
	if len(s) > 1 {
		std = math.Sqrt(ss / float64(len(s)-1))
	}
	return Summary{
		N: len(s), Min: s[0], Max: s[len(s)-1], Mean: mean, Std: std,
		P50: Percentile(s, 50), P90: Percentile(s, 90), P99: Percentile(s, 99),
	}, nil
}

// Percentile returns the p-th percentile (0 ≤ p ≤ 100) of sorted, a non-empty ascending
// slice, interpolating linearly between the two nearest order statistics: position
// h = (n−1)·p/100, value s[⌊h⌋] + (h−⌊h⌋)·(s[⌊h⌋+1]−s[⌊h⌋]). This is numpy.percentile's
// default ("linear", Hyndman & Fan type 7), which scripts/bench_torch.py uses too.
func Percentile(sorted []float64, p float64) float64 {
	h := float64(len(sorted)-1) * p / 100
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}
