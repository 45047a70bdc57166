package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// PadMode is ONNX Pad's mode attribute.
type PadMode int

const (
	// PadConstant fills with the given value.
	PadConstant PadMode = iota
	// PadReflect mirrors about the first and last element without repeating them
	// (numpy "reflect"; [a b c] padded by 2 gives [c b a b c b a]).
	PadReflect
	// PadEdge repeats the first and last element.
	PadEdge
)

func (m PadMode) String() string {
	switch m {
	case PadConstant:
		return "constant"
	case PadReflect:
		return "reflect"
	case PadEdge:
		return "edge"
	}
	return fmt.Sprintf("PadMode(%d)", int(m))
}

// Pad pads x as ONNX Pad does. pads is in ONNX layout [x1_begin, x2_begin, …, x1_end,
// x2_end, …], one begin and one end per axis; a negative entry crops that many elements
// instead. Crops apply first and reflect/edge padding mirrors the cropped tensor, as
// onnxruntime does. Reflect pads wider than the axis keep mirroring (numpy's rule). value is
// used by PadConstant only.
func Pad(x *G.Node, pads []int, mode PadMode, value float64) (*G.Node, error) {
	if x == nil {
		return nil, errorf("Pad: nil input")
	}
	in := x.Shape().Clone()
	r := len(in)
	if r == 0 {
		return nil, errorf("Pad: input %q is a scalar, want rank >= 1", x.Name())
	}
	if len(pads) != 2*r {
		return nil, errorf("Pad: pads %v have %d entries, want %d (begin and end for each axis of %v)", pads, len(pads), 2*r, in)
	}
	if mode < PadConstant || mode > PadEdge {
		return nil, errorf("Pad: unknown mode %d, want PadConstant, PadReflect or PadEdge", int(mode))
	}
	if mode != PadConstant {
		value = 0 // unused; keeps equal pads from hashing differently
	}
	if math.IsNaN(value) {
		return nil, errorf("Pad: constant value is NaN")
	}
	op := padOp{pads: append([]int(nil), pads...), mode: mode, value: value, in: in, buf: new(outBuf)}
	st := rowMajorStrides(in)
	op.m = indexMap{shape: make([]int, r), maps: make([][]int, r)}
	for ax, n := range in {
		b, e := pads[ax], pads[r+ax]
		lo := max(-b, 0)            // elements cropped at the start
		kept := n - lo - max(-e, 0) // length after cropping
		out := n + b + e
		if out < 1 {
			return nil, errorf("Pad: axis %d of %v: pads %d and %d leave %d elements, want >= 1", ax, in, b, e, out)
		}
		if kept < 1 && mode != PadConstant {
			return nil, errorf("Pad: axis %d of %v: pads %d and %d crop every element, so %v padding has nothing to copy", ax, in, b, e, mode)
		}
		m := make([]int, out)
		for o := range m {
			i := o - max(b, 0) // index into the cropped axis
			switch {
			case i >= 0 && i < kept:
			case mode == PadConstant:
				m[o] = -1
				continue
			case mode == PadEdge:
				i = min(max(i, 0), kept-1)
			default:
				i = reflectIndex(i, kept)
			}
			m[o] = (lo + i) * st[ax]
		}
		op.m.shape[ax], op.m.maps[ax] = out, m
	}
	y, err := G.ApplyOp(op, x)
	if err != nil {
		return nil, errorf("Pad: %w", err)
	}
	return y, nil
}

// reflectIndex folds i into [0, n) by mirroring about 0 and n−1 as often as needed.
func reflectIndex(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}

type padOp struct {
	pads  []int
	mode  PadMode
	value float64
	in    tensor.Shape
	m     indexMap
	buf   *outBuf
}

func (op padOp) Arity() int    { return 1 }
func (op padOp) Type() hm.Type { return rankFnType(len(op.in), len(op.in)) }
func (op padOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.m.shape).Clone(), nil
}
func (op padOp) ReturnsPtr() bool     { return false }
func (op padOp) CallsExtern() bool    { return false }
func (op padOp) OverwritesInput() int { return -1 }
func (op padOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.Pad{%v,%v,%x}%v", op.pads, op.mode, math.Float64bits(op.value), op.in)
}
func (op padOp) Hashcode() uint32 { return hashOf(op) }
func (op padOp) String() string {
	return fmt.Sprintf("Pad{%v,%v,%g}", op.pads, op.mode, op.value)
}

func (op padOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("Pad", forward, 0)()
	if len(vs) != 1 {
		return nil, errorf("Pad: got %d inputs, want 1", len(vs))
	}
	return gatherValue("Pad", op.buf, op.m, op.in, vs[0], op.value)
}

func (op padOp) DiffWRT(int) []bool { return []bool{true} }

func (op padOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(padDiffOp{f: op, buf: new(outBuf)}, g)
	if err != nil {
		return nil, errorf("Pad gradient: %w", err)
	}
	return G.Nodes{dx}, nil
}

// padDiffOp sums the output gradient back into the input positions each output element was
// copied from (several, for reflect and edge); constant fill and cropped elements get none.
type padDiffOp struct {
	f   padOp
	buf *outBuf // its own, not the forward op's f.buf
}

func (op padDiffOp) Arity() int    { return 1 }
func (op padDiffOp) Type() hm.Type { return rankFnType(len(op.f.in), len(op.f.in)) }
func (op padDiffOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.f.in.Clone(), nil
}
func (op padDiffOp) ReturnsPtr() bool     { return false }
func (op padDiffOp) CallsExtern() bool    { return false }
func (op padDiffOp) OverwritesInput() int { return -1 }
func (op padDiffOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.PadDiff{%v,%v}%v", op.f.pads, op.f.mode, op.f.in)
}
func (op padDiffOp) Hashcode() uint32 { return hashOf(op) }
func (op padDiffOp) String() string   { return fmt.Sprintf("PadDiff{%v,%v}", op.f.pads, op.f.mode) }

func (op padDiffOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("Pad", backward, 0)()
	if len(vs) != 1 {
		return nil, errorf("PadDiff: got %d inputs, want 1", len(vs))
	}
	return scatterValue("PadDiff", op.buf, op.f.m, op.f.in, vs[0])
}
