package importer

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

// lowerExpand: Expand of a run-time tensor (a ViT's class token, a parameter of shape
// [1,1,D], expanded to the batch) to an import-time shape, as x + zeros(shape): ops.Add
// broadcasts numpy-style and its gradient sums back over the broadcast axes, which is
// Expand's gradient; adding zero changes no bit.
func lowerExpand(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	target, err := c.konstInput(in, 1, "shape")
	if err != nil {
		return nil, err
	}
	out, err := broadcastShapes(x.Shape(), target.ints())
	if err != nil {
		return nil, c.errf("%v", err)
	}
	if tensor.Shape(out).Eq(x.Shape()) {
		return []value{nodeValue(x)}, nil
	}
	z := newKonst(pb.TensorProto_FLOAT, out)
	z.f = make([]float64, numel(out))
	zn, err := c.m.konstNode(z, c.n.Output[0]+"/zeros")
	if err != nil {
		return nil, c.errf("%v", err)
	}
	y, err := ops.Add(x, zn)
	return one(y, c.wrap(err))
}

// lowerGather: Gather of a run-time tensor at import-time indices (a ViT's class token,
// x[:, 0]): one slice per index along the axis, concatenated, then reshaped to Gather's
// shape (data.shape[:axis] + indices.shape + data.shape[axis+1:]).
func lowerGather(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	idx, err := c.konstInput(in, 1, "indices")
	if err != nil {
		return nil, err
	}
	if idx.isFloat() {
		return nil, c.errf("indices have type %v, want an integer type", idx.dt)
	}
	shape := x.Shape().Clone()
	axis, err := normAxis(int(onnx.AttrInt(c.n, "axis", 0)), len(shape))
	if err != nil {
		return nil, c.errf("%v", err)
	}
	if idx.size() == 0 {
		return nil, c.unsupported("empty indices", "Gorgonia has no empty tensors")
	}
	var parts []*G.Node
	for _, g := range idx.i {
		if g < 0 {
			g += int64(shape[axis])
		}
		if g < 0 || g >= int64(shape[axis]) {
			return nil, c.errf("index %d is out of range for axis %d of size %d", g, axis, shape[axis])
		}
		p := x
		if shape[axis] > 1 {
			if p, err = ops.Slice(x, []int{int(g)}, []int{int(g) + 1}, []int{axis}, []int{1}); err != nil {
				return nil, c.wrap(err)
			}
		}
		parts = append(parts, p)
	}
	y := parts[0]
	if len(parts) > 1 {
		if y, err = ops.Concat(axis, parts...); err != nil {
			return nil, c.wrap(err)
		}
	}
	out := append(append(append([]int{}, shape[:axis]...), idx.shape...), shape[axis+1:]...)
	if len(out) == 0 {
		return nil, c.unsupported(fmt.Sprintf("a scalar result from %v", shape), "Gorgonia scalars do not broadcast like tensors")
	}
	if tensor.Shape(out).Eq(y.Shape()) {
		return []value{nodeValue(y)}, nil
	}
	y, err = G.Reshape(y, tensor.Shape(out))
	return one(y, c.wrap(err))
}
