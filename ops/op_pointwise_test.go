package ops

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// pointwiseCases are the kinds with the parameters the importer uses and their closed forms
// (Φ written through erfc, a different route than the op's erf).
var pointwiseCases = []struct {
	k           PointwiseKind
	alpha, beta float64
	positive    bool // defined on x > 0 only
	want        func(x float64) float64
}{
	{Erf, 0, 0, false, math.Erf},
	{Gelu, 0, 0, false, func(x float64) float64 { return x * 0.5 * math.Erfc(-x/math.Sqrt2) }},
	{Sqrt, 0, 0, true, math.Sqrt},
	{PowConst, 2, 0, false, func(x float64) float64 { return x * x }},
	{PowConst, 3, 0, false, func(x float64) float64 { return x * x * x }},
	{PowConst, 0.5, 0, true, math.Sqrt},
	{HardSigmoid, 1.0 / 6, 0.5, false, func(x float64) float64 { return math.Max(0, math.Min(1, x/6+0.5)) }},
	{HardSigmoid, 0.2, 0.5, false, func(x float64) float64 { return math.Max(0, math.Min(1, 0.2*x+0.5)) }},
	{HardSwish, 0, 0, false, func(x float64) float64 { return x * math.Max(0, math.Min(1, x/6+0.5)) }},
}

// pointwiseInput spans both sides of HardSigmoid's and HardSwish's kinks (±3, ±2.5) without
// landing within finite differences' reach of them.
func pointwiseInput(seed int64, positive bool) []float64 {
	x := gradcheck.Rand(seed, []int{2, 3, 4, 5}).Data().([]float64)
	for i := range x {
		x[i] *= 5
		if positive {
			x[i] = math.Abs(x[i]) + 0.1
		}
		for _, kink := range []float64{-3, 3, -2.5, 2.5} {
			if math.Abs(x[i]-kink) < 1e-3 {
				x[i] += 0.01
			}
		}
	}
	return x
}

func TestPointwiseForwardAndGrad(t *testing.T) {
	for i, c := range pointwiseCases {
		t.Run(c.k.String(), func(t *testing.T) {
			data := pointwiseInput(int64(40+i), c.positive)
			want := make([]float64, len(data))
			for j, v := range data {
				want[j] = c.want(v)
			}
			x := bDense([]int{2, 3, 4, 5}, data)
			build := bUnary(func(x *G.Node) (*G.Node, error) { return Pointwise(x, c.k, c.alpha, c.beta) })
			shape, got := bForward(t, build, x)
			bShape(t, c.k.String(), shape, 2, 3, 4, 5)
			bClose(t, c.k.String()+" float64", got, want, 1e-14, 1e-14)
			_, got32 := bForward(t, build, bTo32(x))
			bClose(t, c.k.String()+" float32", got32, want, 1e-6, 1e-6)
			gradcheck.Check(t, build, x)
		})
	}
}

func TestPointwiseErrorsAndHash(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float32, 2, G.WithShape(2, 3), G.WithName("x"))
	_, err := Pointwise(x, PointwiseKind(99), 0, 0)
	bWantErr(t, "unknown kind", err, "unknown kind")
	_, err = Pointwise(x, PowConst, math.NaN(), 0)
	bWantErr(t, "NaN exponent", err, "finite")
	xi := G.NewTensor(g, G.Int, 2, G.WithShape(2, 3), G.WithName("xi"))
	_, err = Pointwise(xi, Erf, 0, 0)
	bWantErr(t, "int input", err, "dtype")
	// Different parameters must not be merged into one node by Gorgonia's hash.
	a, _ := Pointwise(x, HardSigmoid, 0.2, 0.5)
	b, _ := Pointwise(x, HardSigmoid, 1.0/6, 0.5)
	c, _ := Pointwise(x, HardSigmoid, 0.2, 0.5)
	if a == b || a != c {
		t.Errorf("hash merging: HardSigmoid(0.2) and (1/6) merged %v, two HardSigmoid(0.2) merged %v", a == b, a == c)
	}
}
