package gradcheck

import (
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gorgonia's own well-trodden ops must pass.
func TestKnownGoodGradients(t *testing.T) {
	Check(t, func(g *G.ExprGraph, x G.Nodes) (*G.Node, error) {
		p, err := G.Mul(x[0], x[1]) // matrix product
		if err != nil {
			return nil, err
		}
		return G.Tanh(p)
	}, Rand(1, []int{3, 4}), Rand(2, []int{4, 2}))
}

// The check must catch a gradient that is wrong. Here the output is x² + a, where a is a
// constant node sharing x's storage: the symbolic gradient sees a constant (2x), but the finite
// differences move a with x (2x + 1). A correct checker reports every entry.
func TestCatchesWrongGradient(t *testing.T) {
	err := Compare(Options{}, func(g *G.ExprGraph, x G.Nodes) (*G.Node, error) {
		sq, err := G.Square(x[0])
		if err != nil {
			return nil, err
		}
		alias := G.NewTensor(g, tensor.Float64, 2, G.WithShape(2, 3), G.WithValue(x[0].Value()))
		return G.Add(sq, alias)
	}, Rand(4, []int{2, 3}))
	if err == nil || !strings.Contains(err.Error(), "6 of 6 gradient entries disagree") {
		t.Fatalf("want all 6 entries reported, got %v", err)
	}
}
