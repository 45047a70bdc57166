package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Slice is ONNX Slice (opset ≥ 10) with its inputs already resolved to integers. starts and
// ends are required and equally long; axes (nil = 0, 1, …) and steps (nil = all 1) are
// optional. As ONNX specifies: negative starts/ends and axes count from the end; starts and
// ends are clamped to [0, dim] for positive steps and to [0, dim−1] / [−1, dim−1] for negative
// ones, so huge sentinels such as math.MaxInt64 work; a step of 0 is an error. A slice that
// selects nothing is an error too (Gorgonia has no empty tensors).
func Slice(x *G.Node, starts, ends, axes, steps []int) (*G.Node, error) {
	if x == nil {
		return nil, errorf("Slice: nil input")
	}
	in := x.Shape().Clone()
	r := len(in)
	if r == 0 {
		return nil, errorf("Slice: input %q is a scalar, want rank >= 1", x.Name())
	}
	if len(ends) != len(starts) {
		return nil, errorf("Slice: %d starts %v but %d ends %v, want equal counts", len(starts), starts, len(ends), ends)
	}
	if axes == nil {
		axes = make([]int, len(starts))
		for i := range axes {
			axes[i] = i
		}
	}
	if steps == nil {
		steps = make([]int, len(starts))
		for i := range steps {
			steps[i] = 1
		}
	}
	if len(axes) != len(starts) || len(steps) != len(starts) {
		return nil, errorf("Slice: %d starts, %d axes %v and %d steps %v, want equal counts", len(starts), len(axes), axes, len(steps), steps)
	}
	op := sliceOp{in: in, start: make([]int, r), step: make([]int, r), buf: new(outBuf)}
	out := in.Clone()
	for i := range op.step {
		op.step[i] = 1
	}
	seen := make([]bool, r)
	for i, a := range axes {
		ax, err := onnxAxis("Slice", a, r)
		if err != nil {
			return nil, err
		}
		if seen[ax] {
			return nil, errorf("Slice: axes %v name axis %d twice", axes, ax)
		}
		seen[ax] = true
		start, n, err := sliceRange(in[ax], starts[i], ends[i], steps[i])
		if err != nil {
			return nil, errorf("Slice: axis %d of %v: %w", ax, in, err)
		}
		op.start[ax], op.step[ax], out[ax] = start, steps[i], n
	}
	st := rowMajorStrides(in)
	op.m = indexMap{shape: out, maps: make([][]int, r)}
	for ax, n := range out {
		op.m.maps[ax] = make([]int, n)
		for o := range op.m.maps[ax] {
			op.m.maps[ax][o] = (op.start[ax] + o*op.step[ax]) * st[ax]
		}
	}
	y, err := G.ApplyOp(op, x)
	if err != nil {
		return nil, errorf("Slice: %w", err)
	}
	return y, nil
}

// sliceRange resolves one axis of an ONNX slice to its first index and element count.
func sliceRange(dim, start, end, step int) (first, count int, err error) {
	if step == 0 {
		return 0, 0, fmt.Errorf("step is 0")
	}
	if start < 0 {
		start += dim
	}
	if end < 0 {
		end += dim
	}
	if step > 0 {
		start, end = min(max(start, 0), dim), min(max(end, 0), dim)
		count = (end - start + step - 1) / step
	} else {
		start, end = min(max(start, 0), dim-1), min(max(end, -1), dim-1)
		count = (start - end - step - 1) / -step
	}
	if count <= 0 {
		return 0, 0, fmt.Errorf("start %d, end %d, step %d select no element of %d", start, end, step, dim)
	}
	return start, count, nil
}

type sliceOp struct {
	in          tensor.Shape
	start, step []int // per axis, resolved
	m           indexMap
	buf         *outBuf
}

func (op sliceOp) Arity() int    { return 1 }
func (op sliceOp) Type() hm.Type { return rankFnType(len(op.in), len(op.in)) }
func (op sliceOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return tensor.Shape(op.m.shape).Clone(), nil
}
func (op sliceOp) ReturnsPtr() bool     { return false }
func (op sliceOp) CallsExtern() bool    { return false }
func (op sliceOp) OverwritesInput() int { return -1 }
func (op sliceOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.Slice{start=%v,step=%v,out=%v}%v", op.start, op.step, op.m.shape, op.in)
}
func (op sliceOp) Hashcode() uint32 { return hashOf(op) }
func (op sliceOp) String() string {
	return fmt.Sprintf("Slice{start=%v,step=%v,out=%v}", op.start, op.step, op.m.shape)
}

func (op sliceOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("Slice", forward, 0)()
	if len(vs) != 1 {
		return nil, errorf("Slice: got %d inputs, want 1", len(vs))
	}
	return gatherValue("Slice", op.buf, op.m, op.in, vs[0], 0)
}

func (op sliceOp) DiffWRT(int) []bool { return []bool{true} }

func (op sliceOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(sliceDiffOp{f: op, buf: new(outBuf)}, g)
	if err != nil {
		return nil, errorf("Slice gradient: %w", err)
	}
	return G.Nodes{dx}, nil
}

// sliceDiffOp places the output gradient at the sliced positions of a zero input-shaped
// tensor.
type sliceDiffOp struct {
	f   sliceOp
	buf *outBuf // its own, not the forward op's f.buf
}

func (op sliceDiffOp) Arity() int    { return 1 }
func (op sliceDiffOp) Type() hm.Type { return rankFnType(len(op.f.in), len(op.f.in)) }
func (op sliceDiffOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.f.in.Clone(), nil
}
func (op sliceDiffOp) ReturnsPtr() bool     { return false }
func (op sliceDiffOp) CallsExtern() bool    { return false }
func (op sliceDiffOp) OverwritesInput() int { return -1 }
func (op sliceDiffOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.SliceDiff{start=%v,step=%v,out=%v}%v", op.f.start, op.f.step, op.f.m.shape, op.f.in)
}
func (op sliceDiffOp) Hashcode() uint32 { return hashOf(op) }
func (op sliceDiffOp) String() string {
	return fmt.Sprintf("SliceDiff{start=%v,step=%v}", op.f.start, op.f.step)
}

func (op sliceDiffOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("Slice", backward, 0)()
	if len(vs) != 1 {
		return nil, errorf("SliceDiff: got %d inputs, want 1", len(vs))
	}
	return scatterValue("SliceDiff", op.buf, op.f.m, op.f.in, vs[0])
}
