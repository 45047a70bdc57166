package ops

import (
	"fmt"
	"hash"
	"sort"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// ReduceSum sums x over the given axes (ONNX ReduceSum): negative axes count from the end, an
// empty list means every axis. keepDims keeps the reduced axes with size 1; without it they
// are removed, and reducing every axis gives a scalar node (usable as a loss).
//
// Gorgonia's own Sum/Mean give wrong values over several axes unless the reduced size is 2;
// this op walks the axes itself.
func ReduceSum(x *G.Node, axes []int, keepDims bool) (*G.Node, error) {
	return applyReduce("ReduceSum", false, x, axes, keepDims)
}

// ReduceMean is ReduceSum divided by the number of elements reduced into each output.
func ReduceMean(x *G.Node, axes []int, keepDims bool) (*G.Node, error) {
	return applyReduce("ReduceMean", true, x, axes, keepDims)
}

func applyReduce(name string, mean bool, x *G.Node, axes []int, keepDims bool) (*G.Node, error) {
	if x == nil {
		return nil, errorf("%s: nil input", name)
	}
	in := x.Shape().Clone()
	r := len(in)
	if r == 0 {
		return nil, errorf("%s: input %q is a scalar, want rank >= 1", name, x.Name())
	}
	reduced := make([]bool, r)
	if len(axes) == 0 {
		for i := range reduced {
			reduced[i] = true
		}
	}
	for _, a := range axes {
		ax, err := onnxAxis(name, a, r)
		if err != nil {
			return nil, err
		}
		if reduced[ax] {
			return nil, errorf("%s: axes %v name axis %d twice (input shape %v)", name, axes, ax, in)
		}
		reduced[ax] = true
	}
	op := reduceOp{name: name, mean: mean, keep: keepDims, in: in, reduced: reduced, buf: new(outBuf)}
	op.kept, op.out, op.count = reduceShapes(in, reduced, keepDims)
	y, err := G.ApplyOp(op, x)
	if err != nil {
		return nil, errorf("%s: %w", name, err)
	}
	return y, nil
}

// reduceShapes gives the output shape with reduced axes kept as 1 (kept), the shape the op
// returns (out), and how many input elements fold into each output element.
func reduceShapes(in tensor.Shape, reduced []bool, keep bool) (kept, out tensor.Shape, count int) {
	count = 1
	kept = in.Clone()
	out = tensor.Shape{}
	for i, n := range in {
		if reduced[i] {
			kept[i] = 1
			count *= n
			if keep {
				out = append(out, 1)
			}
			continue
		}
		out = append(out, n)
	}
	return kept, out, count
}

type reduceOp struct {
	name      string // ReduceSum or ReduceMean
	mean      bool
	keep      bool
	in        tensor.Shape
	reduced   []bool
	kept, out tensor.Shape
	count     int
	buf       *outBuf
}

// axes lists the reduced axes, for hashing and printing.
func (op reduceOp) axes() []int {
	var a []int
	for i, r := range op.reduced {
		if r {
			a = append(a, i)
		}
	}
	sort.Ints(a)
	return a
}

func (op reduceOp) Arity() int    { return 1 }
func (op reduceOp) Type() hm.Type { return rankFnType(len(op.out), len(op.in)) }
func (op reduceOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.out.Clone(), nil
}
func (op reduceOp) ReturnsPtr() bool     { return false }
func (op reduceOp) CallsExtern() bool    { return false }
func (op reduceOp) OverwritesInput() int { return -1 }
func (op reduceOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.%s{axes=%v,keep=%t}%v", op.name, op.axes(), op.keep, op.in)
}
func (op reduceOp) Hashcode() uint32 { return hashOf(op) }
func (op reduceOp) String() string {
	return fmt.Sprintf("%s{axes=%v,keep=%t}", op.name, op.axes(), op.keep)
}

// scale is 1/count for the mean, 1 for the sum.
func (op reduceOp) scale() float64 {
	if op.mean {
		return 1 / float64(op.count)
	}
	return 1
}

// walker pairs every input element (operand 0, contiguous) with its output element (operand
// 1: stride 0 along reduced axes).
func (op reduceOp) walker() strided {
	os := rowMajorStrides(op.kept)
	for i, r := range op.reduced {
		if r {
			os[i] = 0
		}
	}
	return newStrided(op.in, rowMajorStrides(op.in), os)
}

func (op reduceOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp(op.name, forward, 0)()
	if len(vs) != 1 {
		return nil, errorf("%s: got %d inputs, want 1", op.name, len(vs))
	}
	if err := checkRunShape(op.name, vs[0], op.in); err != nil {
		return nil, err
	}
	if e, t, err := valuesOn(op.name, vs[0]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.forwardDevice(e, t[0])
	}
	f32, err := isFloat32(op.name, vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return reduceDo[float32](op, vs[0])
	}
	return reduceDo[float64](op, vs[0])
}

func reduceDo[T Float](op reduceOp, v G.Value) (G.Value, error) {
	x, err := valueData[T](v)
	if err != nil {
		return nil, errorf("%s: %w", op.name, err)
	}
	// Accumulate in float64 so float32 sums over large maps do not drift.
	acc := make([]float64, op.out.TotalSize())
	s := op.walker()
	n, ix, iy := s.rowLen(), s.inc(0), s.inc(1)
	s.rows(func(o []int) {
		xr := x[o[0]:]
		if iy == 0 {
			var sum float64
			for j := 0; j < n; j++ {
				sum += float64(xr[j*ix])
			}
			acc[o[1]] += sum
			return
		}
		yr := acc[o[1]:]
		for j := 0; j < n; j++ {
			yr[j*iy] += float64(xr[j*ix])
		}
	})
	yt, y := resultSlice[T](op.buf, op.out)
	sc := op.scale()
	for i, a := range acc {
		y[i] = T(a * sc)
	}
	return outValue(yt, op.out, y), nil
}

func (op reduceOp) DiffWRT(int) []bool { return []bool{true} }

func (op reduceOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(reduceDiffOp{f: op, buf: new(outBuf)}, g)
	if err != nil {
		return nil, errorf("%s gradient: %w", op.name, err)
	}
	return G.Nodes{dx}, nil
}

// reduceDiffOp spreads the output gradient back over the reduced axes (times 1/count for the
// mean): dL/dx[i] = scale · dL/dy[out(i)].
type reduceDiffOp struct {
	f   reduceOp
	buf *outBuf // its own, not the forward op's f.buf
}

func (op reduceDiffOp) Arity() int    { return 1 }
func (op reduceDiffOp) Type() hm.Type { return rankFnType(len(op.f.in), len(op.f.out)) }
func (op reduceDiffOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.f.in.Clone(), nil
}
func (op reduceDiffOp) ReturnsPtr() bool     { return false }
func (op reduceDiffOp) CallsExtern() bool    { return false }
func (op reduceDiffOp) OverwritesInput() int { return -1 }
func (op reduceDiffOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.%sDiff{axes=%v,keep=%t}%v", op.f.name, op.f.axes(), op.f.keep, op.f.in)
}
func (op reduceDiffOp) Hashcode() uint32 { return hashOf(op) }
func (op reduceDiffOp) String() string {
	return fmt.Sprintf("%sDiff{axes=%v,keep=%t}", op.f.name, op.f.axes(), op.f.keep)
}

func (op reduceDiffOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp(op.f.name, backward, 0)()
	what := op.f.name + "Diff"
	if len(vs) != 1 {
		return nil, errorf("%s: got %d inputs, want 1", what, len(vs))
	}
	if err := checkRunShape(what, vs[0], op.f.out); err != nil {
		return nil, err
	}
	if t, ok := vs[0].(*tensor.Dense); ok && device.Of(t) != nil {
		return op.f.backwardDevice(device.Of(t), op.buf, t)
	}
	if e := op.f.ranOn(); e != nil { // a scalar reduction's gradient seed arrives as a host scalar
		return op.f.backwardDevice(e, op.buf, vs[0])
	}
	f32, err := isFloat32(what, vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return reduceDiffDo[float32](op.f, op.buf, vs[0])
	}
	return reduceDiffDo[float64](op.f, op.buf, vs[0])
}

func reduceDiffDo[T Float](op reduceOp, buf *outBuf, gv G.Value) (G.Value, error) {
	g, err := valueData[T](gv)
	if err != nil {
		return nil, errorf("%sDiff: %w", op.name, err)
	}
	dxt, dx := resultSlice[T](buf, op.in)
	sc := T(op.scale())
	s := op.walker()
	n, ix, iy := s.rowLen(), s.inc(0), s.inc(1)
	s.rows(func(o []int) {
		dr, gr := dx[o[0]:], g[o[1]:]
		for j := 0; j < n; j++ {
			dr[j*ix] = sc * gr[j*iy]
		}
	})
	return outValue(dxt, op.in, dx), nil
}
