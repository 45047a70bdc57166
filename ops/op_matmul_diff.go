package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// matmulDiffOp is MatMul's gradient with respect to input wrt: (a, b, dy) → da = Σ dY·Bᵀ or
// db = Σ Aᵀ·dY, summed over the output matrices that broadcast reused the operand in.
type matmulDiffOp struct {
	*matmulPlan
	wrt int
	buf outBuf
}

func (op *matmulDiffOp) shape() tensor.Shape {
	if op.wrt == 0 {
		return op.a
	}
	return op.b
}

func (op *matmulDiffOp) Arity() int { return 3 }
func (op *matmulDiffOp) Type() hm.Type {
	return dimsFnType(op.a.Dims(), op.b.Dims(), op.out.Dims(), op.shape().Dims())
}
func (op *matmulDiffOp) ReturnsPtr() bool      { return false }
func (op *matmulDiffOp) CallsExtern() bool     { return false }
func (op *matmulDiffOp) OverwritesInput() int  { return -1 }
func (op *matmulDiffOp) Hashcode() uint32      { return hashOf(op) }
func (op *matmulDiffOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op *matmulDiffOp) DiffWRT(n int) []bool  { return make([]bool, n) }
func (op *matmulDiffOp) String() string {
	return fmt.Sprintf("d%c/MatMul{%v×%v→%v}", "ab"[op.wrt], op.a, op.b, op.out)
}
func (op *matmulDiffOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errorf("MatMul: second derivatives are not implemented")
}

func (op *matmulDiffOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes(op.String(), in, 3); err != nil {
		return nil, err
	}
	return op.shape().Clone(), nil
}

func (op *matmulDiffOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *matmulDiffOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("MatMul ∂"+string("ab"[op.wrt]), backward, op.flops())()
	v, err := denseInputs(op.String(), 3, in)
	if err != nil {
		return nil, err
	}
	if !v[0].Shape().Eq(op.a) || !v[1].Shape().Eq(op.b) || !v[2].Shape().Eq(op.out) {
		return nil, errorf("%v: got a %v, b %v, dy %v at run time", op, v[0].Shape(), v[1].Shape(), v[2].Shape())
	}
	if e, err := devOf(op.String(), v...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		d := op.buf.onDevice(e, prealloc, op.shape())
		return d, op.backwardDevice(e, op.wrt, v[0], v[1], v[2], d)
	}
	d := op.buf.get(prealloc, v[0].Dtype(), op.shape())
	if v[0].Dtype() == tensor.Float32 {
		matmulBackward(op.matmulPlan, op.wrt, elems[float32](v[0]), elems[float32](v[1]), elems[float32](v[2]), elems[float32](d))
	} else {
		matmulBackward(op.matmulPlan, op.wrt, elems[float64](v[0]), elems[float64](v[1]), elems[float64](v[2]), elems[float64](d))
	}
	return d, nil
}

// matmulBackward overwrites d with the gradient of Σ dy⊙matmul(a, b) with respect to a
// (wrt 0) or b (wrt 1).
func matmulBackward[T Float](p *matmulPlan, wrt int, a, b, dy, d []T) {
	m, k, n := p.m, p.k, p.n
	batch := len(p.aOff)
	if p.fold {
		if wrt == 0 {
			gemm(false, true, batch*m, k, n, 1, dy, n, b, n, 0, d, k)
		} else {
			gemm(true, false, k, n, batch*m, 1, a, k, dy, n, 0, d, n)
		}
		return
	}
	clear(d)
	for t := 0; t < batch; t++ {
		g := dy[t*m*n:]
		if wrt == 0 {
			gemm(false, true, m, k, n, 1, g, n, b[p.bOff[t]:], n, 1, d[p.aOff[t]:], k)
		} else {
			gemm(true, false, k, n, m, 1, a[p.aOff[t]:], k, g, n, 1, d[p.bOff[t]:], n)
		}
	}
}
