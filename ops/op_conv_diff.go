package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// convDiffXOp is Conv2D's gradient with respect to x: (w, dy) → dx = col2im(Wᵀ·dY).
type convDiffXOp struct {
	*convOp
	buf outBuf // its own, not the forward op's
}

func (op *convDiffXOp) Arity() int    { return 2 }
func (op *convDiffXOp) Type() hm.Type { return dimsFnType(4, 4, 4) }
func (op *convDiffXOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes("Conv2D dx", in, 2); err != nil {
		return nil, err
	}
	return op.x.Clone(), nil
}
func (op *convDiffXOp) Hashcode() uint32          { return hashOf(op) }
func (op *convDiffXOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "%v", op) }
func (op *convDiffXOp) String() string            { return "dx/" + op.convOp.String() }
func (op *convDiffXOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }
func (op *convDiffXOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errorf("Conv2D: second derivatives are not implemented")
}
func (op *convDiffXOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *convDiffXOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp(op.kind()+" ∂x", backward, op.flops())()
	a, err := denseInputs("Conv2D dx", 2, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.w) || !a[1].Shape().Eq(op.outShape()) {
		return nil, errorf("Conv2D dx: got w %v and dy %v, want %v and %v", a[0].Shape(), a[1].Shape(), op.w, op.outShape())
	}
	if e, err := devOf("Conv2D dx", a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		dx := op.buf.onDevice(e, prealloc, op.x)
		return dx, op.backwardXDevice(e, a[0], a[1], dx)
	}
	dx := op.buf.get(prealloc, a[0].Dtype(), op.x)
	if a[0].Dtype() == tensor.Float32 {
		convBackwardX(op.convOp, elems[float32](a[0]), elems[float32](a[1]), elems[float32](dx))
	} else {
		convBackwardX(op.convOp, elems[float64](a[0]), elems[float64](a[1]), elems[float64](dx))
	}
	return dx, nil
}

// convDiffWOp is Conv2D's gradient with respect to w: (x, dy) → dw = Σ_n dY·im2col(x)ᵀ.
type convDiffWOp struct {
	*convOp
	buf outBuf // its own, not the forward op's
}

func (op *convDiffWOp) Arity() int    { return 2 }
func (op *convDiffWOp) Type() hm.Type { return dimsFnType(4, 4, 4) }
func (op *convDiffWOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes("Conv2D dw", in, 2); err != nil {
		return nil, err
	}
	return op.w.Clone(), nil
}
func (op *convDiffWOp) Hashcode() uint32          { return hashOf(op) }
func (op *convDiffWOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "%v", op) }
func (op *convDiffWOp) String() string            { return "dw/" + op.convOp.String() }
func (op *convDiffWOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }
func (op *convDiffWOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errorf("Conv2D: second derivatives are not implemented")
}
func (op *convDiffWOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *convDiffWOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp(op.kind()+" ∂w", backward, op.flops())()
	a, err := denseInputs("Conv2D dw", 2, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.x) || !a[1].Shape().Eq(op.outShape()) {
		return nil, errorf("Conv2D dw: got x %v and dy %v, want %v and %v", a[0].Shape(), a[1].Shape(), op.x, op.outShape())
	}
	if e, err := devOf("Conv2D dw", a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		dw := op.buf.onDevice(e, prealloc, op.w)
		return dw, op.backwardWDevice(e, a[0], a[1], dw)
	}
	dw := op.buf.get(prealloc, a[0].Dtype(), op.w)
	if a[0].Dtype() == tensor.Float32 {
		convBackwardW(op.convOp, elems[float32](a[0]), elems[float32](a[1]), elems[float32](dw))
	} else {
		convBackwardW(op.convOp, elems[float64](a[0]), elems[float64](a[1]), elems[float64](dw))
	}
	return dw, nil
}
