package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MatMul has numpy/ONNX matmul semantics: 1-D operands promoted, batch dimensions
// broadcast (e.g. [s,H] x [N,C,H,W] → [N,C,s,W]; [N,HW,C] x [N,C,HW] → [N,HW,HW]).
//
// Each output matrix is one GEMM through BLAS; when b is a single matrix and a is not
// broadcast (a linear layer over [N, L, C]), the whole batch is one GEMM. The product of two
// 1-D vectors (a 0-d result) is not supported: Gorgonia's ops here produce tensors.
func MatMul(a, b *G.Node) (*G.Node, error) {
	if a == nil || b == nil {
		return nil, errorf("MatMul: a and b must not be nil")
	}
	if a.Dtype() != b.Dtype() {
		return nil, errorf("MatMul: a is %v but b is %v", a.Dtype(), b.Dtype())
	}
	if dt := a.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errorf("MatMul: operands are %v, want float32 or float64", dt)
	}
	p, err := planMatMul(a.Shape(), b.Shape())
	if err != nil {
		return nil, err
	}
	return G.ApplyOp(&matmulOp{matmulPlan: p}, a, b)
}

// matmulPlan is the shape analysis of one MatMul: the matrix sizes, and for every output
// matrix the element offsets of the a and b matrices it multiplies (broadcasting repeats them).
type matmulPlan struct {
	a, b, out  tensor.Shape
	m, k, n    int
	aOff, bOff []int
	// fold: b is one matrix and a's matrices are the output's, in order, so the batch is a
	// single [batch·m, k] × [k, n] product.
	fold bool
}

func planMatMul(as, bs tensor.Shape) (*matmulPlan, error) {
	if as.Dims() < 1 || bs.Dims() < 1 {
		return nil, errorf("MatMul: shapes %v and %v; both operands need at least 1 dim", as, bs)
	}
	if as.Dims() == 1 && bs.Dims() == 1 {
		return nil, errorf("MatMul: shapes %v and %v are two vectors; their 0-d product is not supported, reshape one to 2-D", as, bs)
	}
	p := &matmulPlan{a: as.Clone(), b: bs.Clone()}
	a2, b2 := []int(as.Clone()), []int(bs.Clone())
	if len(a2) == 1 {
		a2 = []int{1, a2[0]}
	}
	if len(b2) == 1 {
		b2 = []int{b2[0], 1}
	}
	p.m, p.k = a2[len(a2)-2], a2[len(a2)-1]
	p.n = b2[len(b2)-1]
	if kb := b2[len(b2)-2]; kb != p.k {
		return nil, errorf("MatMul: a %v has %d columns but b %v has %d rows", as, p.k, bs, kb)
	}
	ba, bb := a2[:len(a2)-2], b2[:len(b2)-2]
	nd := max(len(ba), len(bb))
	ba, bb = padOnes(ba, nd), padOnes(bb, nd)
	batch := make([]int, nd)
	for i := range batch {
		switch {
		case ba[i] == bb[i], bb[i] == 1:
			batch[i] = ba[i]
		case ba[i] == 1:
			batch[i] = bb[i]
		default:
			return nil, errorf("MatMul: batch dimensions of a %v and b %v do not broadcast (%d vs %d)", as, bs, ba[i], bb[i])
		}
	}
	total := 1
	for _, d := range batch {
		total *= d
	}
	p.aOff, p.bOff = make([]int, total), make([]int, total)
	sa, sb := broadcastBatchStrides(ba, batch, p.m*p.k), broadcastBatchStrides(bb, batch, p.k*p.n)
	idx := make([]int, nd)
	for t := 0; t < total; t++ {
		for d := 0; d < nd; d++ {
			p.aOff[t] += idx[d] * sa[d]
			p.bOff[t] += idx[d] * sb[d]
		}
		for d := nd - 1; d >= 0; d-- { // odometer over the output batch index
			if idx[d]++; idx[d] < batch[d] {
				break
			}
			idx[d] = 0
		}
	}
	bMats, aBroadcast := 1, false
	for d := range batch {
		bMats *= bb[d]
		aBroadcast = aBroadcast || ba[d] != batch[d]
	}
	p.fold = bMats == 1 && !aBroadcast
	p.out = append(tensor.Shape{}, batch...)
	if as.Dims() > 1 {
		p.out = append(p.out, p.m)
	}
	if bs.Dims() > 1 {
		p.out = append(p.out, p.n)
	}
	return p, nil
}

func padOnes(s []int, n int) []int {
	out := make([]int, n-len(s), n)
	for i := range out {
		out[i] = 1
	}
	return append(out, s...)
}

// broadcastBatchStrides returns, per batch dimension, how many elements one step moves in an
// operand with batch dims dims (broadcast ones step 0) whose matrices hold mat elements.
func broadcastBatchStrides(dims, batch []int, mat int) []int {
	st := make([]int, len(dims))
	s := mat
	for d := len(dims) - 1; d >= 0; d-- {
		if dims[d] != 1 || batch[d] == 1 {
			st[d] = s
		}
		s *= dims[d]
	}
	return st
}

type matmulOp struct {
	*matmulPlan
	buf outBuf
}

func (op *matmulOp) Arity() int            { return 2 }
func (op *matmulOp) Type() hm.Type         { return dimsFnType(op.a.Dims(), op.b.Dims(), op.out.Dims()) }
func (op *matmulOp) ReturnsPtr() bool      { return false }
func (op *matmulOp) CallsExtern() bool     { return false }
func (op *matmulOp) OverwritesInput() int  { return -1 }
func (op *matmulOp) Hashcode() uint32      { return hashOf(op) }
func (op *matmulOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op *matmulOp) String() string        { return fmt.Sprintf("MatMul{%v×%v→%v}", op.a, op.b, op.out) }
func (op *matmulOp) DiffWRT(int) []bool    { return []bool{true, true} }

func (op *matmulOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := inputShapes("MatMul", in, 2)
	if err != nil {
		return nil, err
	}
	if !s[0].Eq(op.a) || !s[1].Eq(op.b) {
		return nil, errorf("MatMul: inputs have shapes %v, %v; the op was built for %v, %v", s[0], s[1], op.a, op.b)
	}
	return op.out.Clone(), nil
}

func (op *matmulOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 2 {
		return nil, errorf("MatMul: SymDiff got %d inputs, want 2", len(inputs))
	}
	var out G.Nodes
	for wrt := range 2 {
		d, err := G.ApplyOp(&matmulDiffOp{matmulPlan: op.matmulPlan, wrt: wrt}, inputs[0], inputs[1], grad)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

func (op *matmulOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *matmulOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("MatMul", forward, op.flops())()
	v, err := denseInputs("MatMul", 2, in)
	if err != nil {
		return nil, err
	}
	if !v[0].Shape().Eq(op.a) || !v[1].Shape().Eq(op.b) {
		return nil, errorf("MatMul: got %v × %v at run time, want %v × %v", v[0].Shape(), v[1].Shape(), op.a, op.b)
	}
	if e, err := devOf("MatMul", v...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		y := op.buf.onDevice(e, prealloc, op.out)
		return y, op.forwardDevice(e, v[0], v[1], y)
	}
	y := op.buf.get(prealloc, v[0].Dtype(), op.out)
	if v[0].Dtype() == tensor.Float32 {
		matmulForward(op.matmulPlan, elems[float32](v[0]), elems[float32](v[1]), elems[float32](y))
	} else {
		matmulForward(op.matmulPlan, elems[float64](v[0]), elems[float64](v[1]), elems[float64](y))
	}
	return y, nil
}

func matmulForward[T Float](p *matmulPlan, a, b, y []T) {
	m, k, n := p.m, p.k, p.n
	if p.fold {
		gemm(false, false, len(p.aOff)*m, n, k, 1, a, k, b, n, 0, y, n)
		return
	}
	for t := range p.aOff {
		gemm(false, false, m, n, k, 1, a[p.aOff[t]:], k, b[p.bOff[t]:], n, 0, y[t*m*n:], n)
	}
}

// flops is 2 × the multiply-adds of the product (each gradient does as many).
func (p *matmulPlan) flops() float64 { return 2 * float64(p.out.TotalSize()) * float64(p.k) }
