package importer

import (
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

// lowerLayerNorm: LayerNormalization (opset 17) over the axes from `axis` (default −1) to
// the last, as the same graph PyTorch's opset-13 export spells out (ReduceMean, Sub, Pow 2,
// ReduceMean, Add ε, Sqrt, Div, then Mul scale and Add bias), so the two forms train alike
// and each step has its own tested gradient. Mean and InvStdDev (1/√(var+ε)) are outputs 1
// and 2, as in the spec.
func lowerLayerNorm(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	scale, err := c.nodeOf(in, 1)
	if err != nil {
		return nil, err
	}
	r := x.Dims()
	axis, err := normAxis(int(onnx.AttrInt(c.n, "axis", -1)), r)
	if err != nil {
		return nil, c.errf("%v", err)
	}
	if sw := onnx.AttrInt(c.n, "stash_type", 1); sw != 1 {
		return nil, c.unsupported("stash_type other than 1 (float32)", "re-export with the default stash_type")
	}
	var axes []int
	for a := axis; a < r; a++ {
		axes = append(axes, a)
	}
	eps := newKonst(pb.TensorProto_FLOAT, []int{})
	eps.f = []float64{float64(onnx.AttrFloat(c.n, "epsilon", 1e-5))}
	epsNode, err := c.m.konstNode(eps, c.n.Input[0]+"/epsilon")
	if err != nil {
		return nil, c.errf("%v", err)
	}
	mean, err := ops.ReduceMean(x, axes, true)
	if err != nil {
		return nil, c.wrap(err)
	}
	d, err := ops.Sub(x, mean)
	if err != nil {
		return nil, c.wrap(err)
	}
	sq, err := ops.Pointwise(d, ops.PowConst, 2, 0)
	if err != nil {
		return nil, c.wrap(err)
	}
	v, err := ops.ReduceMean(sq, axes, true)
	if err != nil {
		return nil, c.wrap(err)
	}
	if v, err = ops.Add(v, epsNode); err != nil {
		return nil, c.wrap(err)
	}
	s, err := ops.Pointwise(v, ops.Sqrt, 0, 0)
	if err != nil {
		return nil, c.wrap(err)
	}
	y, err := ops.Div(d, s)
	if err != nil {
		return nil, c.wrap(err)
	}
	if y, err = ops.Mul(y, scale); err != nil {
		return nil, c.wrap(err)
	}
	if len(in) > 2 && in[2].present() {
		b, err := c.nodeOf(in, 2)
		if err != nil {
			return nil, err
		}
		if y, err = ops.Add(y, b); err != nil {
			return nil, c.wrap(err)
		}
	}
	outs := []value{nodeValue(y), nodeValue(mean)}
	if len(c.n.Output) > 2 && c.n.Output[2] != "" {
		inv, err := ops.Pointwise(v, ops.PowConst, -0.5, 0)
		if err != nil {
			return nil, c.wrap(err)
		}
		outs = append(outs, nodeValue(inv))
	}
	return outs[:min(len(outs), max(len(c.n.Output), 1))], nil
}
