package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Add returns a + b with numpy/ONNX multidirectional broadcasting: shapes are aligned on the
// right and size-1 (or missing) axes stretch, so [2,3,4,5] + [3,1,1], [1] + [2,3] and
// [4,1] · [1,5] all work. Either operand may be a scalar node. Gradients are summed over the
// broadcast axes back to each operand's shape.
func Add(a, b *G.Node) (*G.Node, error) { return applyArith(arithAdd, a, b) }

// Sub returns a − b with broadcasting, as Add.
func Sub(a, b *G.Node) (*G.Node, error) { return applyArith(arithSub, a, b) }

// Mul returns a ⊙ b (elementwise) with broadcasting, as Add.
func Mul(a, b *G.Node) (*G.Node, error) { return applyArith(arithMul, a, b) }

// Div returns a ⊘ b (elementwise) with broadcasting, as Add. Division by zero follows IEEE
// (±Inf or NaN), as ONNX does for floats.
func Div(a, b *G.Node) (*G.Node, error) { return applyArith(arithDiv, a, b) }

type arithKind int

const (
	arithAdd arithKind = iota
	arithSub
	arithMul
	arithDiv
)

func (k arithKind) String() string {
	switch k {
	case arithAdd:
		return "Add"
	case arithSub:
		return "Sub"
	case arithMul:
		return "Mul"
	case arithDiv:
		return "Div"
	}
	return fmt.Sprintf("arithKind(%d)", int(k))
}

func applyArith(kind arithKind, a, b *G.Node) (*G.Node, error) {
	if a == nil || b == nil {
		return nil, errorf("%v: nil operand", kind)
	}
	out, err := broadcastShape(a.Shape(), b.Shape())
	if err != nil {
		return nil, errorf("%v(%q, %q): %w", kind, a.Name(), b.Name(), err)
	}
	op := arithOp{kind: kind, a: a.Shape().Clone(), b: b.Shape().Clone(), out: out, buf: new(outBuf)}
	y, err := G.ApplyOp(op, a, b)
	if err != nil {
		return nil, errorf("%v: %w", kind, err)
	}
	return y, nil
}

// arithOp is one broadcasting elementwise operation with static operand shapes.
type arithOp struct {
	kind      arithKind
	a, b, out tensor.Shape
	buf       *outBuf
}

func (op arithOp) Arity() int    { return 2 }
func (op arithOp) Type() hm.Type { return rankFnType(len(op.out), len(op.a), len(op.b)) }
func (op arithOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.out.Clone(), nil
}
func (op arithOp) ReturnsPtr() bool     { return false }
func (op arithOp) CallsExtern() bool    { return false }
func (op arithOp) OverwritesInput() int { return -1 }
func (op arithOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.%v%v%v", op.kind, op.a, op.b)
}
func (op arithOp) Hashcode() uint32 { return hashOf(op) }
func (op arithOp) String() string   { return fmt.Sprintf("%v%v%v", op.kind, op.a, op.b) }

func (op arithOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp(op.kind.String(), forward, 0)()
	if len(vs) != 2 {
		return nil, errorf("%v: got %d inputs, want 2", op.kind, len(vs))
	}
	if err := checkRunShape(op.kind.String(), vs[0], op.a); err != nil {
		return nil, err
	}
	if err := checkRunShape(op.kind.String(), vs[1], op.b); err != nil {
		return nil, err
	}
	if e, err := deviceOf(op.kind.String(), vs[0], vs[1]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.forwardDevice(e, vs[0], vs[1])
	}
	f32, err := isFloat32(op.kind.String(), vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return arithDo[float32](op, vs[0], vs[1])
	}
	return arithDo[float64](op, vs[0], vs[1])
}

func arithDo[T Float](op arithOp, av, bv G.Value) (G.Value, error) {
	a, err := valueData[T](av)
	if err != nil {
		return nil, errorf("%v: %w", op.kind, err)
	}
	b, err := valueData[T](bv)
	if err != nil {
		return nil, errorf("%v: %w", op.kind, err)
	}
	yt, y := resultSlice[T](op.buf, op.out)
	if op.a.Eq(op.out) && op.b.Eq(op.out) {
		arithSame(op.kind, a, b, y)
		return outValue(yt, op.out, y), nil
	}
	s := newStrided(op.out, rowMajorStrides(op.out), broadcastStrides(op.a, op.out), broadcastStrides(op.b, op.out))
	n, iy, ia, ib := s.rowLen(), s.inc(0), s.inc(1), s.inc(2)
	s.rows(func(o []int) {
		yr, ar, br := y[o[0]:], a[o[1]:], b[o[2]:]
		switch op.kind {
		case arithAdd:
			for j := 0; j < n; j++ {
				yr[j*iy] = ar[j*ia] + br[j*ib]
			}
		case arithSub:
			for j := 0; j < n; j++ {
				yr[j*iy] = ar[j*ia] - br[j*ib]
			}
		case arithMul:
			for j := 0; j < n; j++ {
				yr[j*iy] = ar[j*ia] * br[j*ib]
			}
		case arithDiv:
			for j := 0; j < n; j++ {
				yr[j*iy] = ar[j*ia] / br[j*ib]
			}
		}
	})
	return outValue(yt, op.out, y), nil
}

// arithSame is arithDo's loop for operands of the output's shape (a residual Add): plain
// slices, split across CPUs.
func arithSame[T Float](kind arithKind, a, b, y []T) {
	parallelFor(len(y), len(y), func(lo, hi int) {
		yr, ar, br := y[lo:hi], a[lo:hi], b[lo:hi]
		switch kind {
		case arithAdd:
			for j := range yr {
				yr[j] = ar[j] + br[j]
			}
		case arithSub:
			for j := range yr {
				yr[j] = ar[j] - br[j]
			}
		case arithMul:
			for j := range yr {
				yr[j] = ar[j] * br[j]
			}
		case arithDiv:
			for j := range yr {
				yr[j] = ar[j] / br[j]
			}
		}
	})
}

func (op arithOp) DiffWRT(int) []bool { return []bool{true, true} }

func (op arithOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	if len(in) != 2 {
		return nil, errorf("%v gradient: got %d inputs, want 2", op.kind, len(in))
	}
	grads := make(G.Nodes, 2)
	for k := range grads {
		d, err := G.ApplyOp(arithDiffOp{f: op, wrt: k, buf: new(outBuf)}, in[0], in[1], g)
		if err != nil {
			return nil, errorf("%v gradient: %w", op.kind, err)
		}
		grads[k] = d
	}
	return grads, nil
}

// arithDiffOp computes the gradient of an arithOp with respect to operand wrt (0 = a, 1 = b)
// from (a, b, dL/dy): the elementwise partial derivative times dL/dy, summed over the axes
// along which that operand was broadcast.
type arithDiffOp struct {
	f   arithOp
	wrt int
	buf *outBuf // its own, not the forward op's f.buf
}

func (op arithDiffOp) shape() tensor.Shape {
	if op.wrt == 0 {
		return op.f.a
	}
	return op.f.b
}

func (op arithDiffOp) Arity() int { return 3 }
func (op arithDiffOp) Type() hm.Type {
	return rankFnType(len(op.shape()), len(op.f.a), len(op.f.b), len(op.f.out))
}
func (op arithDiffOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.shape().Clone(), nil
}
func (op arithDiffOp) ReturnsPtr() bool     { return false }
func (op arithDiffOp) CallsExtern() bool    { return false }
func (op arithDiffOp) OverwritesInput() int { return -1 }
func (op arithDiffOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.%vDiff%v%v/d%d", op.f.kind, op.f.a, op.f.b, op.wrt)
}
func (op arithDiffOp) Hashcode() uint32 { return hashOf(op) }
func (op arithDiffOp) String() string {
	return fmt.Sprintf("%vDiff%v%v/d%c", op.f.kind, op.f.a, op.f.b, "ab"[op.wrt])
}

func (op arithDiffOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp(op.f.kind.String(), backward, 0)()
	what := op.f.kind.String() + "Diff"
	if len(vs) != 3 {
		return nil, errorf("%s: got %d inputs, want 3", what, len(vs))
	}
	for i, s := range []tensor.Shape{op.f.a, op.f.b, op.f.out} {
		if err := checkRunShape(what, vs[i], s); err != nil {
			return nil, err
		}
	}
	if e, err := deviceOf(what, vs[0], vs[1], vs[2]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.backwardDevice(e, vs[0], vs[1], vs[2])
	}
	f32, err := isFloat32(what, vs[2])
	if err != nil {
		return nil, err
	}
	if f32 {
		return arithDiffDo[float32](op, vs)
	}
	return arithDiffDo[float64](op, vs)
}

func arithDiffDo[T Float](op arithDiffOp, vs []G.Value) (G.Value, error) {
	var data [3][]T
	for i := range data {
		d, err := valueData[T](vs[i])
		if err != nil {
			return nil, errorf("%vDiff: %w", op.f.kind, err)
		}
		data[i] = d
	}
	a, b, g := data[0], data[1], data[2]
	shape := op.shape()
	dt, d := resultSlice[T](op.buf, shape)
	out := op.f.out
	if shape.Eq(out) && (op.f.kind == arithAdd || (op.f.kind == arithSub && op.wrt == 0)) {
		copy(d, g) // d(a±b)/da for an operand that was not broadcast: the gradient itself
		return outValue(dt, shape, d), nil
	}
	clear(d) // the rows below accumulate
	s := newStrided(out, broadcastStrides(shape, out), rowMajorStrides(out), broadcastStrides(op.f.a, out), broadcastStrides(op.f.b, out))
	n, id, ig, ia, ib := s.rowLen(), s.inc(0), s.inc(1), s.inc(2), s.inc(3)
	kind, wrt := op.f.kind, op.wrt
	s.rows(func(o []int) {
		dr, gr, ar, br := d[o[0]:], g[o[1]:], a[o[2]:], b[o[3]:]
		switch {
		case kind == arithAdd || (kind == arithSub && wrt == 0):
			for j := 0; j < n; j++ {
				dr[j*id] += gr[j*ig]
			}
		case kind == arithSub:
			for j := 0; j < n; j++ {
				dr[j*id] -= gr[j*ig]
			}
		case kind == arithMul && wrt == 0:
			for j := 0; j < n; j++ {
				dr[j*id] += gr[j*ig] * br[j*ib]
			}
		case kind == arithMul:
			for j := 0; j < n; j++ {
				dr[j*id] += gr[j*ig] * ar[j*ia]
			}
		case kind == arithDiv && wrt == 0:
			for j := 0; j < n; j++ {
				dr[j*id] += gr[j*ig] / br[j*ib]
			}
		default: // d(a/b)/db = −a/b²
			for j := 0; j < n; j++ {
				bj := br[j*ib]
				dr[j*id] -= gr[j*ig] * ar[j*ia] / (bj * bj)
			}
		}
	})
	return outValue(dt, shape, d), nil
}
