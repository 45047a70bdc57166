package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// chanSumOp sums a [N, C, …] tensor over every axis but the channel axis 1, giving [C]. It is
// the gradient of a per-channel bias (Conv2D's b, BatchNorm's bias): Gorgonia's Sum over
// several axes is wrong when the reduced sizes are not 2, and this is one pass anyway.
type chanSumOp struct {
	dims int
	buf  *outBuf
}

func newChanSum(x *G.Node) (*G.Node, error) {
	if x.Dims() < 2 {
		return nil, errorf("channel sum: input has shape %v, want at least 2 dims [N, C, …]", x.Shape())
	}
	return G.ApplyOp(chanSumOp{dims: x.Dims(), buf: new(outBuf)}, x)
}

func (op chanSumOp) Arity() int                        { return 1 }
func (op chanSumOp) Type() hm.Type                     { return dimsFnType(op.dims, 1) }
func (op chanSumOp) ReturnsPtr() bool                  { return false }
func (op chanSumOp) CallsExtern() bool                 { return false }
func (op chanSumOp) OverwritesInput() int              { return -1 }
func (op chanSumOp) WriteHash(h hash.Hash)             { fmt.Fprintf(h, "ChanSum{%d}", op.dims) }
func (op chanSumOp) Hashcode() uint32                  { return hashOf(op) }
func (op chanSumOp) String() string                    { return "ChanSum" }
func (op chanSumOp) DiffWRT(inputs int) []bool         { return []bool{false} }
func (op chanSumOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op chanSumOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := inputShapes("channel sum", in, 1)
	if err != nil {
		return nil, err
	}
	return tensor.Shape{s[0][1]}, nil
}

func (op chanSumOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	return nil, errorf("channel sum: is only used inside gradients and has no gradient itself")
}

func (op chanSumOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("ChanSum", backward, 0)()
	a, err := denseInputs("channel sum", 1, in)
	if err != nil {
		return nil, err
	}
	s := a[0].Shape()
	n, c := s[0], s[1]
	inner := s.TotalSize() / max(n*c, 1)
	if e, err := devOf("channel sum", a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		out := op.buf.onDevice(e, prealloc, tensor.Shape{c})
		return out, chanSumDevice(e, a[0], out, n, c, inner)
	}
	out := op.buf.get(prealloc, a[0].Dtype(), tensor.Shape{c})
	if a[0].Dtype() == tensor.Float32 {
		chanSum(elems[float32](a[0]), elems[float32](out), n, c, inner)
	} else {
		chanSum(elems[float64](a[0]), elems[float64](out), n, c, inner)
	}
	return out, nil
}

// chanSum writes Σ over n and the inner positions of x[n, c, inner] into out[c], accumulating
// in float64 so float32 sums over large batches keep their digits.
func chanSum[T Float](x, out []T, n, c, inner int) {
	parallelFor(c, len(x), func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			var s float64
			for ni := 0; ni < n; ni++ {
				s += sumF64(x[(ni*c+ci)*inner:][:inner])
			}
			out[ci] = T(s)
		}
	})
}
