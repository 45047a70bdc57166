package importer

import (
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops"
)

// lowerSoftmax: Softmax and LogSoftmax. From opset 13 they run along `axis` (default −1).
// Before, the input is coerced to 2-D [∏d<axis, ∏d≥axis] (default axis 1) and normalised
// over the whole flattened tail — a different function whenever the tail has more than one
// axis, so it is lowered as reshape → softmax on axis 1 → reshape back.
func lowerSoftmax(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	f := ops.Softmax
	if c.n.GetOpType() == "LogSoftmax" {
		f = ops.LogSoftmax
	}
	shape := x.Shape().Clone()
	if c.opset >= 13 {
		axis, err := normAxis(int(onnx.AttrInt(c.n, "axis", -1)), len(shape))
		if err != nil {
			return nil, c.errf("%v", err)
		}
		y, err := f(x, axis)
		return one(y, c.wrap(err))
	}
	axis := int(onnx.AttrInt(c.n, "axis", 1))
	if axis < 0 {
		axis += len(shape)
	}
	if axis < 0 || axis > len(shape) {
		return nil, c.errf("axis %d is out of range for rank %d", onnx.AttrInt(c.n, "axis", 1), len(shape))
	}
	flat, err := reshapeNode(c, in, []int{numel(shape[:axis]), numel(shape[axis:])})
	if err != nil {
		return nil, err
	}
	y, err := f(flat[0].node, 1)
	if err != nil {
		return nil, c.wrap(err)
	}
	return reshapeNode(c, []value{nodeValue(y)}, shape)
}
