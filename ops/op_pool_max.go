package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// MaxPool2D is ONNX MaxPool over [N,C,H,W] with pads, dilation and ceil_mode. Padding never
// wins the max (ONNX semantics); ties go to the first maximum in row-major window order and
// NaN propagates, as in PyTorch. A window that holds only padding (possible only with
// dilation) outputs the lowest finite value, as onnxruntime does, and passes no gradient.
func MaxPool2D(x *G.Node, p PoolParams) (*G.Node, error) {
	if p.CountIncludePad {
		return nil, errorf("MaxPool2D: CountIncludePad is an AveragePool setting; MaxPool never counts padding")
	}
	g, err := poolGeom("MaxPool2D", x, p)
	if err != nil {
		return nil, err
	}
	return G.ApplyOp(&maxPoolOp{g: g, x: x.Shape().Clone()}, x)
}

type maxPoolOp struct {
	g   geom2D
	x   tensor.Shape
	buf outBuf
}

func (op *maxPoolOp) outShape() tensor.Shape {
	return tensor.Shape{op.x[0], op.x[1], op.g.OH, op.g.OW}
}

func (op *maxPoolOp) Arity() int            { return 1 }
func (op *maxPoolOp) Type() hm.Type         { return dimsFnType(4, 4) }
func (op *maxPoolOp) ReturnsPtr() bool      { return false }
func (op *maxPoolOp) CallsExtern() bool     { return false }
func (op *maxPoolOp) OverwritesInput() int  { return -1 }
func (op *maxPoolOp) Hashcode() uint32      { return hashOf(op) }
func (op *maxPoolOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op *maxPoolOp) String() string        { return fmt.Sprintf("MaxPool2D{%v}", op.g) }
func (op *maxPoolOp) DiffWRT(int) []bool    { return []bool{true} }

func (op *maxPoolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := inputShapes("MaxPool2D", in, 1)
	if err != nil {
		return nil, err
	}
	if !s[0].Eq(op.x) {
		return nil, errorf("MaxPool2D: input has shape %v; the op was built for %v", s[0], op.x)
	}
	return op.outShape(), nil
}

func (op *maxPoolOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errorf("MaxPool2D: SymDiff got %d inputs, want 1", len(inputs))
	}
	dx, err := G.ApplyOp(&maxPoolDiffOp{maxPoolOp: op}, inputs[0], grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

func (op *maxPoolOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *maxPoolOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("MaxPool", forward, 0)()
	a, err := denseInputs("MaxPool2D", 1, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.x) {
		return nil, errorf("MaxPool2D: got x %v at run time, want %v", a[0].Shape(), op.x)
	}
	y := op.buf.get(prealloc, a[0].Dtype(), op.outShape())
	planes := op.x[0] * op.x[1]
	if a[0].Dtype() == tensor.Float32 {
		maxPool(&op.g, planes, elems[float32](a[0]), elems[float32](y), math.MaxFloat32)
	} else {
		maxPool(&op.g, planes, elems[float64](a[0]), elems[float64](y), math.MaxFloat64)
	}
	return y, nil
}

// maxPool writes each window's maximum into y, plane by plane. lowest is the magnitude of the
// value an all-padding window outputs.
func maxPool[T Float](g *geom2D, planes int, x, y []T, lowest float64) {
	hw, ohw := g.H*g.W, g.OH*g.OW
	parallelFor(planes, planes*ohw*g.KH*g.KW, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, yp := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw]
			for oh := 0; oh < g.OH; oh++ {
				for ow := 0; ow < g.OW; ow++ {
					best, at := windowMax(g, xp, oh, ow)
					if at < 0 {
						best = T(-lowest)
					}
					yp[oh*g.OW+ow] = best
				}
			}
		}
	})
}

// maxPoolBackward overwrites dx with the max-pool gradient: each dy goes to its window's
// maximum, found again exactly as the forward pass found it.
func maxPoolBackward[T Float](g *geom2D, planes int, x, dy, dx []T) {
	hw, ohw := g.H*g.W, g.OH*g.OW
	clear(dx)
	parallelFor(planes, planes*ohw*g.KH*g.KW, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, dyp, dxp := x[pl*hw:(pl+1)*hw], dy[pl*ohw:(pl+1)*ohw], dx[pl*hw:(pl+1)*hw]
			for oh := 0; oh < g.OH; oh++ {
				for ow := 0; ow < g.OW; ow++ {
					if _, at := windowMax(g, xp, oh, ow); at >= 0 {
						dxp[at] += dyp[oh*g.OW+ow]
					}
				}
			}
		}
	})
}

// windowMax returns the maximum of window (oh, ow) of plane xp and its index in the plane, or
// at = −1 when every tap reads padding. The first valid tap is always taken and a later one
// only when strictly larger (the first maximum wins ties) or NaN (NaN propagates), matching
// PyTorch's CPU kernel.
func windowMax[T Float](g *geom2D, xp []T, oh, ow int) (best T, at int) {
	h0, w0 := oh*g.SH-g.PT, ow*g.SW-g.PL
	at = -1
	for i := 0; i < g.KH; i++ {
		h := h0 + i*g.DH
		if h < 0 || h >= g.H {
			continue
		}
		row := xp[h*g.W : (h+1)*g.W]
		for j := 0; j < g.KW; j++ {
			w := w0 + j*g.DW
			if w < 0 || w >= g.W {
				continue
			}
			if v := row[w]; at < 0 || v > best || v != v {
				best, at = v, h*g.W+w
				if v != v {
					return best, at
				}
			}
		}
	}
	return best, at
}

// maxPoolDiffOp is MaxPool2D's gradient: (x, dy) → dx.
type maxPoolDiffOp struct {
	*maxPoolOp
	buf outBuf // its own, not the forward op's
}

func (op *maxPoolDiffOp) Arity() int            { return 2 }
func (op *maxPoolDiffOp) Type() hm.Type         { return dimsFnType(4, 4, 4) }
func (op *maxPoolDiffOp) Hashcode() uint32      { return hashOf(op) }
func (op *maxPoolDiffOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op *maxPoolDiffOp) String() string        { return "d/" + op.maxPoolOp.String() }
func (op *maxPoolDiffOp) DiffWRT(n int) []bool  { return make([]bool, n) }
func (op *maxPoolDiffOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errorf("MaxPool2D: second derivatives are not implemented")
}

func (op *maxPoolDiffOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes("MaxPool2D dx", in, 2); err != nil {
		return nil, err
	}
	return op.x.Clone(), nil
}

func (op *maxPoolDiffOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *maxPoolDiffOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("MaxPool", backward, 0)()
	a, err := denseInputs("MaxPool2D dx", 2, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.x) || !a[1].Shape().Eq(op.outShape()) {
		return nil, errorf("MaxPool2D dx: got x %v and dy %v, want %v and %v", a[0].Shape(), a[1].Shape(), op.x, op.outShape())
	}
	dx := op.buf.get(prealloc, a[0].Dtype(), op.x)
	planes := op.x[0] * op.x[1]
	if a[0].Dtype() == tensor.Float32 {
		maxPoolBackward(&op.g, planes, elems[float32](a[0]), elems[float32](a[1]), elems[float32](dx))
	} else {
		maxPoolBackward(&op.g, planes, elems[float64](a[0]), elems[float64](a[1]), elems[float64](dx))
	}
	return dx, nil
}
