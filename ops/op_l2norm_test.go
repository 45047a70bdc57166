package ops

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// slowL2Normalize divides each fibre by max(‖fibre‖, eps), fibre by fibre.
func slowL2Normalize(shape []int, x []float64, axis int, eps float64) []float64 {
	outer, n, inner := splitAt(shape, axis)
	y := make([]float64, len(x))
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			var s float64
			for k := 0; k < n; k++ {
				s += x[(o*n+k)*inner+i] * x[(o*n+k)*inner+i]
			}
			d := math.Max(math.Sqrt(s), eps)
			for k := 0; k < n; k++ {
				y[(o*n+k)*inner+i] = x[(o*n+k)*inner+i] / d
			}
		}
	}
	return y
}

func TestL2NormalizeForward(t *testing.T) {
	shape := []int{2, 3, 4}
	x := gradcheck.Rand(60, shape)
	xd := x.Data().([]float64)
	for i := 0; i < 4; i++ { // one fibre along axis 1 below eps
		for k := 0; k < 3; k++ {
			xd[k*4+i] *= 1e-3
		}
	}
	for _, axis := range []int{0, 1, -1} {
		name := fmt.Sprint("axis ", axis)
		build := bUnary(func(x *G.Node) (*G.Node, error) { return L2Normalize(x, axis, 0.01) })
		_, got := bForward(t, build, x)
		want := slowL2Normalize(shape, xd, (axis+3)%3, 0.01)
		bClose(t, name, got, want, 1e-15, 1e-14)
		_, got32 := bForward(t, build, bTo32(x))
		bClose(t, name+" float32", got32, want, 1e-6, 1e-6)
	}
}

func TestL2NormalizeGrad(t *testing.T) {
	x := gradcheck.Rand(61, []int{2, 3, 4})
	for _, axis := range []int{0, 1, -1} {
		gradcheck.Check(t, bUnary(func(x *G.Node) (*G.Node, error) { return L2Normalize(x, axis, 1e-12) }), x)
	}
	// Where the clamp is active the denominator is eps, a constant: dx = g/eps.
	small := gradcheck.Rand(62, []int{2, 3})
	for i, v := range small.Data().([]float64) {
		small.Data().([]float64)[i] = v * 0.1
	}
	gradcheck.Check(t, bUnary(func(x *G.Node) (*G.Node, error) { return L2Normalize(x, 1, 0.5) }), small)
}

func TestL2NormalizeErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 2, G.WithShape(3, 4), G.WithName("x"))
	_, err := L2Normalize(x, 2, 1e-12)
	bWantErr(t, "axis", err, "ops: L2Normalize", "axis 2")
	_, err = L2Normalize(x, 1, 0)
	bWantErr(t, "eps 0", err, "eps 0", "positive")
}
