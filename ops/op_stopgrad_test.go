package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// The forward pass is the identity, in both dtypes.
func TestStopGradientForward(t *testing.T) {
	x := gradcheck.Rand(70, []int{2, 3})
	build := bUnary(StopGradient)
	_, got := bForward(t, build, x)
	bClose(t, "float64", got, x.Data().([]float64), 0, 0)
	_, got32 := bForward(t, build, bTo32(x))
	bClose(t, "float32", got32, x.Data().([]float64), 1e-7, 1e-7)
}

// f(x) = Σ x ⊙ sg(x) has gradient sg(x) = x (one path blocked), not 2x: the check compares
// the blocked gradient with the hand-derived value and with finite differences of a
// function whose second factor is a constant copy.
func TestStopGradientBlocksOnePath(t *testing.T) {
	x := gradcheck.Rand(71, []int{3, 4})
	g := G.NewGraph()
	xn := G.NodeFromAny(g, x.Clone().(*tensor.Dense), G.WithName("x"))
	sg, err := StopGradient(xn)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := Mul(xn, sg)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := ReduceSum(prod, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, xn); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	gv, err := xn.Grad()
	if err != nil {
		t.Fatal(err)
	}
	bClose(t, "dL/dx", gv.Data().([]float64), x.Data().([]float64), 1e-15, 1e-15)

	// The same function with the stopped factor as a separate constant input: finite
	// differences over x only must agree with Gorgonia's gradient through StopGradient.
	gradcheck.CheckOpts(t, gradcheck.Options{WRT: []int{0}}, func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) {
		sg, err := StopGradient(in[1])
		if err != nil {
			return nil, err
		}
		return Mul(in[0], sg)
	}, x, x)
}

// A loss that reaches the parameters only through StopGradient has nothing to differentiate:
// Gorgonia reports it instead of returning a silent zero.
func TestStopGradientOnlyPathIsAnError(t *testing.T) {
	g := G.NewGraph()
	xn := G.NodeFromAny(g, gradcheck.Rand(72, []int{2, 2}), G.WithName("x"))
	sg, err := StopGradient(xn)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := ReduceSum(sg, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, xn); err == nil {
		t.Fatal("Grad through StopGradient only: no error")
	}
}

func TestStopGradientErrors(t *testing.T) {
	_, err := StopGradient(nil)
	bWantErr(t, "nil", err, "ops: StopGradient", "nil input")
	g := G.NewGraph()
	s := G.NewScalar(g, G.Float64, G.WithName("s"))
	_, err = StopGradient(s)
	bWantErr(t, "scalar", err, "ops: StopGradient", "scalar")
}
