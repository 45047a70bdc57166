package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// StopGradient returns a copy of x through which no gradient flows: PyTorch's x.detach(),
// JAX's lax.stop_gradient. SimSiam's loss −½[cos(p1, sg(z2)) + cos(p2, sg(z1))] needs it,
// because z2 is also the input of p2's predictor, so it cannot simply be an input node.
//
// Gorgonia asks each op which inputs it is differentiable with respect to (DiffWRT); this op
// answers "none", so gorgonia.Grad treats everything upstream as a constant along this path
// while other paths to the same nodes still carry their gradients.
func StopGradient(x *G.Node) (*G.Node, error) {
	if x == nil {
		return nil, errorf("StopGradient: nil input")
	}
	in := x.Shape().Clone()
	if len(in) == 0 {
		return nil, errorf("StopGradient: input %q is a scalar, want rank >= 1", x.Name())
	}
	y, err := G.ApplyOp(stopGradOp{in: in}, x)
	if err != nil {
		return nil, errorf("StopGradient: %w", err)
	}
	return y, nil
}

type stopGradOp struct{ in tensor.Shape }

func (op stopGradOp) Arity() int    { return 1 }
func (op stopGradOp) Type() hm.Type { return rankFnType(len(op.in), len(op.in)) }
func (op stopGradOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.in.Clone(), nil
}
func (op stopGradOp) ReturnsPtr() bool      { return false }
func (op stopGradOp) CallsExtern() bool     { return false }
func (op stopGradOp) OverwritesInput() int  { return -1 }
func (op stopGradOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ssl4dp.StopGradient%v", op.in) }
func (op stopGradOp) Hashcode() uint32      { return hashOf(op) }
func (op stopGradOp) String() string        { return "StopGradient" }

// Do copies x: the output must not alias the input, whose buffer the machine may reuse.
func (op stopGradOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("StopGradient", forward, 0)()
	if len(vs) != 1 {
		return nil, errorf("StopGradient: got %d inputs, want 1", len(vs))
	}
	if err := checkRunShape("StopGradient", vs[0], op.in); err != nil {
		return nil, err
	}
	if e, t, err := valuesOn("StopGradient", vs[0]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return stopGradDevice(e, t[0])
	}
	f32, err := isFloat32("StopGradient", vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return stopGradDo[float32](op, vs[0])
	}
	return stopGradDo[float64](op, vs[0])
}

func stopGradDo[T Float](op stopGradOp, v G.Value) (G.Value, error) {
	x, err := valueData[T](v)
	if err != nil {
		return nil, errorf("StopGradient: %w", err)
	}
	return newValue(op.in, append([]T(nil), x...)), nil
}

// DiffWRT says the output does not depend differentiably on the input. Gorgonia then keeps
// the op out of the backward pass, so SymDiff is never called for it by gorgonia.Grad.
func (op stopGradOp) DiffWRT(int) []bool { return []bool{false} }

// SymDiff answers a direct call (Gorgonia's Grad never makes one) with a zero gradient, the
// derivative the op declares.
func (op stopGradOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	zero := G.NewTensor(in[0].Graph(), in[0].Dtype(), len(op.in), G.WithShape(op.in...),
		G.WithInit(G.Zeroes()), G.WithName(fmt.Sprintf("StopGradient/zero/%d", out.ID())))
	return G.Nodes{zero}, nil
}

// Ensure the op is usable with gorgonia.Grad.
var _ G.SDOp = stopGradOp{}
