//go:build cgo

package ops

import (
	"math"
	"testing"

	"gorgonia.org/tensor"
)

// pointwise.cu against ops.Pointwise's CPU loop: both compute each element in double and
// round once, so they agree to 1 ulp of float32 (the double values differ by a few ulps of
// double: own exp/log/erf against Go's); elements below 1e-12 in magnitude may differ by
// 1e-12 absolutely (Gelu's far left tail is 1 + erf, which cancels on both sides alike).
func TestCUDAPointwiseParity(t *testing.T) {
	type tc struct {
		k           PointwiseKind
		alpha, beta float64
		positive    bool
	}
	cases := []tc{{Erf, 0, 0, false}, {Gelu, 0, 0, false}, {Sqrt, 0, 0, true},
		{PowConst, 2, 0, false}, {PowConst, 3, 0, false}, {PowConst, 0.5, 0, false}, {PowConst, -1, 0, false},
		{PowConst, 1.5, 0, true}, {PowConst, -2, 0, false}, {PowConst, 0, 0, false},
		{HardSigmoid, 0.2, 0.5, false}, {HardSigmoid, 1.0 / 6, 0.5, false}, {HardSwish, 0, 0, false}}
	specials := []float64{0, math.Copysign(0, -1), 2.5, -2.5, 2.5 * math.Sqrt2, -2.5 * math.Sqrt2, 3, -3,
		6, -6, 6 * math.Sqrt2, -8.5, 10, -10, 1e-30, -1e-30, 1e30, math.NaN(), math.Inf(1), math.Inf(-1),
		-2.5 - 1e-6, 2.4999998, 0.5, 1}
	worst := 0
	for _, c := range cases {
		for _, n := range cuSizes {
			x := cuRand(uint64(3+n), n)
			for i := range x {
				x[i] *= 4
				if c.positive {
					x[i] = float32(math.Abs(float64(x[i])))
				}
			}
			for i := 0; i < len(specials) && i < n; i++ {
				x[i] = float32(specials[i])
			}
			dy := cuRand(uint64(5+n), n)
			op := &pointwiseOp{k: c.k, alpha: c.alpha, beta: c.beta, in: tensor.Shape{n}}
			opD := &pointwiseOp{k: c.k, alpha: c.alpha, beta: c.beta, in: tensor.Shape{n}, diff: true}
			want := make([]float32, n)
			pointwiseRun(op, []*tensor.Dense{tensor.New(tensor.WithShape(n), tensor.WithBacking(x))}, want)
			wantDx := make([]float32, n)
			pointwiseRun(opD, []*tensor.Dense{tensor.New(tensor.WithShape(n), tensor.WithBacking(x)), tensor.New(tensor.WithShape(n), tensor.WithBacking(dy))}, wantDx)

			grid, block := cuGrid(n)
			y := cuNaN(n)
			cuRun(t, "pointwise_fwd", grid, block, 0, x, y, n, int(c.k), c.alpha, c.beta)
			worst = max(worst, cuULP(t, c.k.String()+" forward", x, y, want))
			dx := cuNaN(n)
			cuRun(t, "pointwise_bwd", grid, block, 0, x, dy, dx, n, int(c.k), c.alpha, c.beta)
			worst = max(worst, cuULP(t, c.k.String()+" gradient", x, dx, wantDx))
		}
	}
	t.Logf("worst: %d ulp", worst)
}

// cuULP fails unless got and want agree to 1 ulp (NaN with NaN, the sign of zero included)
// or to 1e-12 absolutely; it returns the largest ulp distance seen.
func cuULP(t *testing.T, what string, x, got, want []float32) int {
	t.Helper()
	worst := 0
	for i := range got {
		g, w := got[i], want[i]
		if g != g || w != w {
			if (g != g) != (w != w) {
				t.Fatalf("%s(%v) = %v, want %v", what, x[i], g, w)
			}
			continue
		}
		gb, wb := int64(math.Float32bits(g)), int64(math.Float32bits(w))
		if gb == wb {
			continue
		}
		d := -1
		if (gb < 0x80000000) == (wb < 0x80000000) && g != 0 && w != 0 {
			d = int(max(gb-wb, wb-gb))
		}
		if d == 1 || math.Abs(float64(g)-float64(w)) <= 1e-12 && g != 0 && w != 0 {
			worst = max(worst, d)
			continue
		}
		t.Fatalf("%s(%v) = %v (%#x), want %v (%#x)", what, x[i], g, gb, w, wb)
	}
	return worst
}
