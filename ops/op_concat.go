package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Concat joins tensors of equal rank along axis (negative counts from the end), as ONNX
// Concat: every other axis must match. A single input is copied.
func Concat(axis int, xs ...*G.Node) (*G.Node, error) {
	if len(xs) == 0 {
		return nil, errorf("Concat: no inputs")
	}
	for i, x := range xs {
		if x == nil {
			return nil, errorf("Concat: input %d is nil", i)
		}
	}
	first := xs[0].Shape()
	r := len(first)
	if r == 0 {
		return nil, errorf("Concat: input %q is a scalar, want rank >= 1", xs[0].Name())
	}
	ax, err := onnxAxis("Concat", axis, r)
	if err != nil {
		return nil, err
	}
	op := concatOp{axis: ax, buf: new(outBuf)}
	out := first.Clone()
	out[ax] = 0
	for i, x := range xs {
		s := x.Shape()
		if len(s) != r {
			return nil, errorf("Concat: input %d (%q) has shape %v, want rank %d like input 0 %v", i, x.Name(), s, r, first)
		}
		for d := range s {
			if d != ax && s[d] != first[d] {
				return nil, errorf("Concat: input %d (%q) has shape %v, want %v except on axis %d", i, x.Name(), s, first, ax)
			}
		}
		op.ins = append(op.ins, s.Clone())
		out[ax] += s[ax]
	}
	op.out = out
	st := rowMajorStrides(out)
	offset := 0
	for _, s := range op.ins {
		m := indexMap{shape: s, maps: make([][]int, r)}
		for d, n := range s {
			m.maps[d] = make([]int, n)
			for i := range m.maps[d] {
				k := i
				if d == ax {
					k += offset
				}
				m.maps[d][i] = k * st[d]
			}
		}
		op.maps = append(op.maps, m)
		offset += s[ax]
	}
	y, err := G.ApplyOp(op, xs...)
	if err != nil {
		return nil, errorf("Concat: %w", err)
	}
	return y, nil
}

type concatOp struct {
	axis int
	ins  []tensor.Shape
	out  tensor.Shape
	maps []indexMap // input i's element → offset in the output
	buf  *outBuf
}

func (op concatOp) Arity() int { return len(op.ins) }
func (op concatOp) Type() hm.Type {
	ranks := make([]int, len(op.ins))
	for i := range ranks {
		ranks[i] = len(op.out)
	}
	return rankFnType(len(op.out), ranks...)
}
func (op concatOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.out.Clone(), nil }
func (op concatOp) ReturnsPtr() bool                               { return false }
func (op concatOp) CallsExtern() bool                              { return false }
func (op concatOp) OverwritesInput() int                           { return -1 }
func (op concatOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.Concat{axis=%d}%v", op.axis, op.ins)
}
func (op concatOp) Hashcode() uint32 { return hashOf(op) }
func (op concatOp) String() string   { return fmt.Sprintf("Concat{axis=%d}", op.axis) }

func (op concatOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("Concat", forward, 0)()
	if len(vs) != len(op.ins) {
		return nil, errorf("Concat: got %d inputs, want %d", len(vs), len(op.ins))
	}
	for i, v := range vs {
		if err := checkRunShape("Concat", v, op.ins[i]); err != nil {
			return nil, err
		}
		if v.Dtype() != vs[0].Dtype() {
			return nil, errorf("Concat: input %d is %v, want %v like input 0", i, v.Dtype(), vs[0].Dtype())
		}
	}
	if e, t, err := valuesOn("Concat", vs...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.forwardDevice(e, t)
	}
	f32, err := isFloat32("Concat", vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return concatDo[float32](op, vs)
	}
	return concatDo[float64](op, vs)
}

func concatDo[T Float](op concatOp, vs []G.Value) (G.Value, error) {
	yt, y := resultSlice[T](op.buf, op.out)
	clear(y)
	for i, v := range vs {
		x, err := valueData[T](v)
		if err != nil {
			return nil, errorf("Concat: input %d: %w", i, err)
		}
		scatterAdd(op.maps[i], y, x) // y starts at zero and each position is written once
	}
	return outValue(yt, op.out, y), nil
}

func (op concatOp) DiffWRT(n int) []bool {
	d := make([]bool, n)
	for i := range d {
		d[i] = true
	}
	return d
}

func (op concatOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	grads := make(G.Nodes, len(in))
	for i := range in {
		d, err := G.ApplyOp(concatDiffOp{f: op, i: i, buf: new(outBuf)}, g)
		if err != nil {
			return nil, errorf("Concat gradient: %w", err)
		}
		grads[i] = d
	}
	return grads, nil
}

// concatDiffOp cuts input i's block out of the output gradient.
type concatDiffOp struct {
	f   concatOp
	i   int
	buf *outBuf // its own, not the forward op's f.buf
}

func (op concatDiffOp) Arity() int    { return 1 }
func (op concatDiffOp) Type() hm.Type { return rankFnType(len(op.f.out), len(op.f.out)) }
func (op concatDiffOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.f.ins[op.i].Clone(), nil
}
func (op concatDiffOp) ReturnsPtr() bool     { return false }
func (op concatDiffOp) CallsExtern() bool    { return false }
func (op concatDiffOp) OverwritesInput() int { return -1 }
func (op concatDiffOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.ConcatDiff{axis=%d,input=%d}%v", op.f.axis, op.i, op.f.ins)
}
func (op concatDiffOp) Hashcode() uint32 { return hashOf(op) }
func (op concatDiffOp) String() string {
	return fmt.Sprintf("ConcatDiff{axis=%d,input=%d}", op.f.axis, op.i)
}

func (op concatDiffOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("Concat", backward, 0)()
	if len(vs) != 1 {
		return nil, errorf("ConcatDiff: got %d inputs, want 1", len(vs))
	}
	return gatherValue("ConcatDiff", op.buf, op.f.maps[op.i], op.f.out, vs[0], 0)
}
