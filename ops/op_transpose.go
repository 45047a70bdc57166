package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Transpose permutes the axes of x as ONNX Transpose does: output axis i is input axis
// perm[i]. A nil perm reverses the axes (ONNX's default). The result is a fresh contiguous
// tensor, never a lazy view, so every op downstream sees its elements in order.
func Transpose(x *G.Node, perm []int) (*G.Node, error) {
	if x == nil {
		return nil, errorf("Transpose: nil input")
	}
	in := x.Shape().Clone()
	r := len(in)
	if r == 0 {
		return nil, errorf("Transpose: input %q is a scalar, want rank >= 1", x.Name())
	}
	if perm == nil {
		perm = make([]int, r)
		for i := range perm {
			perm[i] = r - 1 - i
		}
	}
	if len(perm) != r {
		return nil, errorf("Transpose: perm %v has %d entries, want %d (input shape %v)", perm, len(perm), r, in)
	}
	seen := make([]bool, r)
	for _, p := range perm {
		if p < 0 || p >= r || seen[p] {
			return nil, errorf("Transpose: perm %v is not a permutation of 0..%d", perm, r-1)
		}
		seen[p] = true
	}
	op := newTransposeOp(in, perm)
	y, err := G.ApplyOp(op, x)
	if err != nil {
		return nil, errorf("Transpose: %w", err)
	}
	return y, nil
}

type transposeOp struct {
	perm []int
	in   tensor.Shape
	m    indexMap // output element → input offset
	buf  *outBuf
}

func newTransposeOp(in tensor.Shape, perm []int) transposeOp {
	st := rowMajorStrides(in)
	m := indexMap{shape: make([]int, len(in)), maps: make([][]int, len(in))}
	for i, p := range perm {
		m.shape[i] = in[p]
		m.maps[i] = make([]int, in[p])
		for o := range m.maps[i] {
			m.maps[i][o] = o * st[p]
		}
	}
	return transposeOp{perm: append([]int(nil), perm...), in: in, m: m, buf: new(outBuf)}
}

func (op transposeOp) Arity() int    { return 1 }
func (op transposeOp) Type() hm.Type { return rankFnType(len(op.in), len(op.in)) }
func (op transposeOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.m.shape).Clone(), nil
}
func (op transposeOp) ReturnsPtr() bool      { return false }
func (op transposeOp) CallsExtern() bool     { return false }
func (op transposeOp) OverwritesInput() int  { return -1 }
func (op transposeOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "ssl4dp.Transpose%v%v", op.perm, op.in) }
func (op transposeOp) Hashcode() uint32      { return hashOf(op) }
func (op transposeOp) String() string        { return fmt.Sprintf("Transpose%v", op.perm) }

func (op transposeOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("Transpose", forward, 0)()
	if len(vs) != 1 {
		return nil, errorf("Transpose: got %d inputs, want 1", len(vs))
	}
	return gatherValue("Transpose", op.buf, op.m, op.in, vs[0], 0)
}

func (op transposeOp) DiffWRT(int) []bool { return []bool{true} }

func (op transposeOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(transposeDiffOp{f: op, buf: new(outBuf)}, g)
	if err != nil {
		return nil, errorf("Transpose gradient: %w", err)
	}
	return G.Nodes{dx}, nil
}

// transposeDiffOp scatters the output gradient back through the forward op's index map: the
// inverse permutation without a second map. Like every diff op here it is not itself
// differentiable (ssl4dp needs first derivatives only).
type transposeDiffOp struct {
	f   transposeOp
	buf *outBuf // its own, not the forward op's f.buf
}

func (op transposeDiffOp) Arity() int    { return 1 }
func (op transposeDiffOp) Type() hm.Type { return rankFnType(len(op.f.in), len(op.f.in)) }
func (op transposeDiffOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.f.in.Clone(), nil
}
func (op transposeDiffOp) ReturnsPtr() bool     { return false }
func (op transposeDiffOp) CallsExtern() bool    { return false }
func (op transposeDiffOp) OverwritesInput() int { return -1 }
func (op transposeDiffOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.TransposeDiff%v%v", op.f.perm, op.f.in)
}
func (op transposeDiffOp) Hashcode() uint32 { return hashOf(op) }
func (op transposeDiffOp) String() string   { return fmt.Sprintf("TransposeDiff%v", op.f.perm) }

func (op transposeDiffOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("Transpose", backward, 0)()
	if len(vs) != 1 {
		return nil, errorf("TransposeDiff: got %d inputs, want 1", len(vs))
	}
	if e, t, err := valuesOn("TransposeDiff", vs[0]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.f.backwardDevice(e, op.buf, t[0])
	}
	return scatterValue("TransposeDiff", op.buf, op.f.m, op.f.in, vs[0])
}
