package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Relu is ONNX Relu, y = max(x, 0), as one pass with a one-pass gradient dx = dy ⊙ [y > 0].
//
// Gorgonia's Rectify is x ⊙ [x ≥ 0]: a comparison that allocates a mask tensor, then a
// product that clones x, and a backward pass through both, about four full passes and two
// allocations per ReLU each way. The gradient here reads the output, as PyTorch's does, so
// it is 0 at x = 0 (Rectify's is 1) and x is not kept for the backward pass. NaN inputs stay
// NaN in the output, so a diverging run still shows in its loss.
func Relu(x *G.Node) (*G.Node, error) {
	if x == nil {
		return nil, errorf("Relu: nil input")
	}
	in := x.Shape().Clone()
	if len(in) == 0 {
		return nil, errorf("Relu: input %q is a scalar, want rank >= 1", x.Name())
	}
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errorf("Relu: input %q has dtype %v, want float32 or float64", x.Name(), dt)
	}
	y, err := G.ApplyOp(&reluOp{in: in}, x)
	if err != nil {
		return nil, errorf("Relu: %w", err)
	}
	return y, nil
}

type reluOp struct {
	in  tensor.Shape
	buf outBuf
}

func (op *reluOp) Arity() int    { return 1 }
func (op *reluOp) Type() hm.Type { return dimsFnType(len(op.in), len(op.in)) }
func (op *reluOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes("Relu", in, 1); err != nil {
		return nil, err
	}
	return op.in.Clone(), nil
}
func (op *reluOp) ReturnsPtr() bool          { return false }
func (op *reluOp) CallsExtern() bool         { return false }
func (op *reluOp) OverwritesInput() int      { return -1 }
func (op *reluOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "ssl4dp.Relu%v", op.in) }
func (op *reluOp) Hashcode() uint32          { return hashOf(op) }
func (op *reluOp) String() string            { return "Relu" }
func (op *reluOp) DiffWRT(inputs int) []bool { return []bool{true} }

// SymDiff is dx = dy ⊙ [y > 0], computed from the output y.
func (op *reluOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errorf("Relu: SymDiff got %d inputs, want 1", len(inputs))
	}
	dx, err := G.ApplyOp(&reluDiffOp{in: op.in}, output, grad)
	if err != nil {
		return nil, errorf("Relu gradient: %w", err)
	}
	return G.Nodes{dx}, nil
}

func (op *reluOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *reluOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("Relu", forward, 0)()
	a, err := denseInputs("Relu", 1, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.in) {
		return nil, errorf("Relu: input has shape %v at run time, want %v", a[0].Shape(), op.in)
	}
	if e, err := devOf("Relu", a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		y := op.buf.onDevice(e, prealloc, op.in)
		k := newKernels(e)
		k.launch1D("relu_fwd", op.in.TotalSize(), ptr(a[0]), ptr(y), op.in.TotalSize())
		return y, k.done("Relu")
	}
	y := op.buf.get(prealloc, a[0].Dtype(), op.in)
	if a[0].Dtype() == tensor.Float32 {
		reluForward(elems[float32](a[0]), elems[float32](y))
	} else {
		reluForward(elems[float64](a[0]), elems[float64](y))
	}
	return y, nil
}

// reluForward writes max(x, 0) into y. Go's max keeps NaN and compiles without a branch:
// a compare-and-branch loop runs several times slower here, because the signs of
// activations are as good as random and every other branch is mispredicted.
func reluForward[T Float](x, y []T) {
	parallelFor(len(x), len(x), func(lo, hi int) {
		d := y[lo:hi]
		for i, v := range x[lo:hi] {
			d[i] = max(v, 0)
		}
	})
}

// reluDiffOp is Relu's gradient: (y, dy) → dy ⊙ [y > 0].
type reluDiffOp struct {
	in  tensor.Shape
	buf outBuf
}

func (op *reluDiffOp) Arity() int    { return 2 }
func (op *reluDiffOp) Type() hm.Type { return dimsFnType(len(op.in), len(op.in), len(op.in)) }
func (op *reluDiffOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes("Relu gradient", in, 2); err != nil {
		return nil, err
	}
	return op.in.Clone(), nil
}
func (op *reluDiffOp) ReturnsPtr() bool          { return false }
func (op *reluDiffOp) CallsExtern() bool         { return false }
func (op *reluDiffOp) OverwritesInput() int      { return -1 }
func (op *reluDiffOp) WriteHash(h hash.Hash)     { fmt.Fprintf(h, "ssl4dp.ReluDiff%v", op.in) }
func (op *reluDiffOp) Hashcode() uint32          { return hashOf(op) }
func (op *reluDiffOp) String() string            { return "ReluDiff" }
func (op *reluDiffOp) DiffWRT(inputs int) []bool { return make([]bool, inputs) }
func (op *reluDiffOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errorf("Relu: second derivatives are not implemented")
}
func (op *reluDiffOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *reluDiffOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("Relu", backward, 0)()
	a, err := denseInputs("Relu gradient", 2, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.in) || !a[1].Shape().Eq(op.in) {
		return nil, errorf("Relu gradient: got y %v and dy %v at run time, want %v", a[0].Shape(), a[1].Shape(), op.in)
	}
	if e, err := devOf("Relu gradient", a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		dx := op.buf.onDevice(e, prealloc, op.in)
		k := newKernels(e)
		k.launch1D("relu_bwd", op.in.TotalSize(), ptr(a[0]), ptr(a[1]), ptr(dx), op.in.TotalSize())
		return dx, k.done("Relu gradient")
	}
	dx := op.buf.get(prealloc, a[0].Dtype(), op.in)
	if a[0].Dtype() == tensor.Float32 {
		reluBackward(elems[float32](a[0]), elems[float32](a[1]), elems[float32](dx))
	} else {
		reluBackward(elems[float64](a[0]), elems[float64](a[1]), elems[float64](dx))
	}
	return dx, nil
}

// reluBackward writes dy where y > 0 and 0 elsewhere (NaN included) into dx, without a
// branch for the same reason as reluForward: the sign test becomes a bit mask. The slices
// are cut to one length first so the loops run without bounds checks (twice as fast).
func reluBackward[T Float](y, dy, dx []T) {
	parallelFor(len(y), len(y), func(lo, hi int) {
		switch yy := any(y[lo:hi]).(type) {
		case []float32:
			maskPositive32(yy, any(dy[lo:hi]).([]float32), any(dx[lo:hi]).([]float32))
		case []float64:
			maskPositive64(yy, any(dy[lo:hi]).([]float64), any(dx[lo:hi]).([]float64))
		}
	})
}

func maskPositive32(y, dy, dx []float32) {
	dy, dx = dy[:len(y)], dx[:len(y)]
	for i, v := range y {
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & positiveMask32(v))
	}
}

func maskPositive64(y, dy, dx []float64) {
	dy, dx = dy[:len(y)], dx[:len(y)]
	for i, v := range y {
		dx[i] = math.Float64frombits(math.Float64bits(dy[i]) & positiveMask64(v))
	}
}

// positiveMask32 is all ones when 0 < v ≤ +Inf and 0 otherwise (zeros, negatives, NaN):
// exactly when v's bits, as an unsigned number, lie in [1, bits(+Inf)], i.e. when
// bits−1 < bits(+Inf), a comparison done in 64-bit signed arithmetic without a branch.
func positiveMask32(v float32) uint32 {
	x := int64(math.Float32bits(v)) - 1 // −1 for +0
	return uint32(((x - 0x7f800000) &^ x) >> 63)
}

// positiveMask64 is positiveMask32 for float64: bits−1 < bits(+Inf) also needs bits−1 not
// to have wrapped round or to have its top bit set (negative numbers, −0).
func positiveMask64(v float64) uint64 {
	x := int64(math.Float64bits(v) - 1)
	return uint64(((x - 0x7ff0000000000000) &^ x) >> 63)
}
