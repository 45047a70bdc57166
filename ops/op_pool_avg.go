package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// AvgPool2D is ONNX AveragePool over [N,C,H,W] with pads, ceil_mode and count_include_pad.
// A window is clipped to the padded input; with CountIncludePad it divides by that clipped
// size (padding counts, the overhang of a ceil-mode window past the trailing pad does not),
// without it by the number of real input elements under it — PyTorch's and onnxruntime's
// rule. Gorgonia's own AveragePool2D gradient reaches only the first window; this one is
// checked against finite differences.
func AvgPool2D(x *G.Node, p PoolParams) (*G.Node, error) {
	if p.Dilation != [2]int{} && p.Dilation != [2]int{1, 1} {
		return nil, errorf("AvgPool2D: dilation %v is not supported (AveragePool has dilations only from opset 19)", p.Dilation)
	}
	g, err := poolGeom("AvgPool2D", x, p)
	if err != nil {
		return nil, err
	}
	op := &avgPoolOp{x: x.Shape().Clone(), oh: g.OH, ow: g.OW,
		desc: fmt.Sprintf("AvgPool2D{%v countIncludePad=%t}", g, p.CountIncludePad)}
	op.rows = fixedWindows(g.OH, g.H, g.KH, g.SH, g.PT, g.PB, p.CountIncludePad)
	op.cols = fixedWindows(g.OW, g.W, g.KW, g.SW, g.PL, g.PR, p.CountIncludePad)
	return G.ApplyOp(op, x)
}

// window is one pooling window along one axis: input positions [start, end) and the count its
// axis contributes to the divisor. Average pooling windows are separable: the divisor of
// window (oh, ow) is rows[oh].count · cols[ow].count.
type window struct{ start, end, count int }

// fixedWindows lays out the out windows of a kernel k with stride s over n inputs padded by
// padBegin/padEnd (ONNX AveragePool without dilation).
func fixedWindows(out, n, k, s, padBegin, padEnd int, countPad bool) []window {
	ws := make([]window, out)
	for o := range ws {
		start := o*s - padBegin
		end := min(start+k, n+padEnd)
		w := window{start: max(start, 0), end: min(end, n), count: end - start}
		if !countPad {
			w.count = w.end - w.start
		}
		ws[o] = w
	}
	return ws
}

// avgPoolOp averages separable windows; AvgPool2D, AdaptiveAvgPool2D and GlobalAvgPool2D
// differ only in how the windows are laid out.
type avgPoolOp struct {
	x          tensor.Shape
	oh, ow     int
	rows, cols []window
	desc       string // names the op and every parameter that shaped the windows
	buf        outBuf
}

func (op *avgPoolOp) outShape() tensor.Shape { return tensor.Shape{op.x[0], op.x[1], op.oh, op.ow} }

func (op *avgPoolOp) Arity() int            { return 1 }
func (op *avgPoolOp) Type() hm.Type         { return dimsFnType(4, 4) }
func (op *avgPoolOp) ReturnsPtr() bool      { return false }
func (op *avgPoolOp) CallsExtern() bool     { return false }
func (op *avgPoolOp) OverwritesInput() int  { return -1 }
func (op *avgPoolOp) Hashcode() uint32      { return hashOf(op) }
func (op *avgPoolOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%s x=%v", op.desc, op.x) }
func (op *avgPoolOp) String() string        { return op.desc }
func (op *avgPoolOp) DiffWRT(int) []bool    { return []bool{true} }

func (op *avgPoolOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	s, err := inputShapes(op.desc, in, 1)
	if err != nil {
		return nil, err
	}
	if !s[0].Eq(op.x) {
		return nil, errorf("%s: input has shape %v; the op was built for %v", op.desc, s[0], op.x)
	}
	return op.outShape(), nil
}

func (op *avgPoolOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if len(inputs) != 1 {
		return nil, errorf("%s: SymDiff got %d inputs, want 1", op.desc, len(inputs))
	}
	dx, err := G.ApplyOp(&avgPoolDiffOp{avgPoolOp: op}, grad)
	if err != nil {
		return nil, err
	}
	return G.Nodes{dx}, nil
}

func (op *avgPoolOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *avgPoolOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("AveragePool", forward, 0)()
	a, err := denseInputs(op.desc, 1, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.x) {
		return nil, errorf("%s: got x %v at run time, want %v", op.desc, a[0].Shape(), op.x)
	}
	if e, err := devOf(op.desc, a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		y := op.buf.onDevice(e, prealloc, op.outShape())
		return y, op.forwardDevice(e, a[0], y)
	}
	y := op.buf.get(prealloc, a[0].Dtype(), op.outShape())
	if a[0].Dtype() == tensor.Float32 {
		avgPool(op, elems[float32](a[0]), elems[float32](y))
	} else {
		avgPool(op, elems[float64](a[0]), elems[float64](y))
	}
	return y, nil
}

// avgPool overwrites y with the window averages of x, summing in float64.
func avgPool[T Float](op *avgPoolOp, x, y []T) {
	h, w := op.x[2], op.x[3]
	planes, hw, ohw := op.x[0]*op.x[1], h*w, op.oh*op.ow
	parallelFor(planes, planes*hw, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			xp, yp := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw]
			for oh, r := range op.rows {
				for ow, c := range op.cols {
					var s float64
					for i := r.start; i < r.end; i++ {
						for _, v := range xp[i*w+c.start : i*w+c.end] {
							s += float64(v)
						}
					}
					yp[oh*op.ow+ow] = T(s / float64(r.count*c.count))
				}
			}
		}
	})
}

// avgPoolDiffOp is the average pools' gradient: dy → dx, each dy spread evenly (by the same
// divisor) over its window.
type avgPoolDiffOp struct {
	*avgPoolOp
	buf outBuf // its own, not the forward op's
}

func (op *avgPoolDiffOp) Arity() int            { return 1 }
func (op *avgPoolDiffOp) Type() hm.Type         { return dimsFnType(4, 4) }
func (op *avgPoolDiffOp) Hashcode() uint32      { return hashOf(op) }
func (op *avgPoolDiffOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "d/%s x=%v", op.desc, op.x) }
func (op *avgPoolDiffOp) String() string        { return "d/" + op.desc }
func (op *avgPoolDiffOp) DiffWRT(n int) []bool  { return make([]bool, n) }
func (op *avgPoolDiffOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errorf("%s: second derivatives are not implemented", op.desc)
}

func (op *avgPoolDiffOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes("d/"+op.desc, in, 1); err != nil {
		return nil, err
	}
	return op.x.Clone(), nil
}

func (op *avgPoolDiffOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *avgPoolDiffOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("AveragePool", backward, 0)()
	a, err := denseInputs("d/"+op.desc, 1, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.outShape()) {
		return nil, errorf("%s dx: got dy %v, want %v", op.desc, a[0].Shape(), op.outShape())
	}
	if e, err := devOf("d/"+op.desc, a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		dx := op.buf.onDevice(e, prealloc, op.x)
		return dx, op.backwardDevice(e, a[0], dx)
	}
	dx := op.buf.get(prealloc, a[0].Dtype(), op.x)
	if a[0].Dtype() == tensor.Float32 {
		avgPoolBackward(op.avgPoolOp, elems[float32](a[0]), elems[float32](dx))
	} else {
		avgPoolBackward(op.avgPoolOp, elems[float64](a[0]), elems[float64](dx))
	}
	return dx, nil
}

// avgPoolBackward overwrites dx with the gradient of Σ dy⊙avgPool(x).
func avgPoolBackward[T Float](op *avgPoolOp, dy, dx []T) {
	h, w := op.x[2], op.x[3]
	planes, hw, ohw := op.x[0]*op.x[1], h*w, op.oh*op.ow
	clear(dx)
	parallelFor(planes, planes*hw, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			dyp, dxp := dy[pl*ohw:(pl+1)*ohw], dx[pl*hw:(pl+1)*hw]
			for oh, r := range op.rows {
				for ow, c := range op.cols {
					v := dyp[oh*op.ow+ow] / T(r.count*c.count)
					for i := r.start; i < r.end; i++ {
						d := dxp[i*w+c.start : i*w+c.end]
						for k := range d {
							d[k] += v
						}
					}
				}
			}
		}
	})
}
