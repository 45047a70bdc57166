package importer

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops"
)

// lowerSplit: Split of a run-time tensor (attention's fused q/k/v projection in many
// exports) into one ops.Slice per output: sizes from the `split` attribute (< 13) or input
// (13+), else equal parts (opset 18's num_outputs, or one per output; ONNX's rule for an
// uneven last part).
func lowerSplit(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	shape := x.Shape().Clone()
	axis, err := normAxis(int(onnx.AttrInt(c.n, "axis", 0)), len(shape))
	if err != nil {
		return nil, c.errf("%v", err)
	}
	n := len(c.n.Output)
	var sizes []int
	switch {
	case c.opset < 13 && len(onnx.AttrInts(c.n, "split", nil)) > 0:
		for _, v := range onnx.AttrInts(c.n, "split", nil) {
			sizes = append(sizes, int(v))
		}
	case c.opset >= 13 && len(in) > 1 && in[1].present():
		k, err := c.konstInput(in, 1, "split")
		if err != nil {
			return nil, err
		}
		sizes = k.ints()
	default:
		if c.opset >= 18 {
			n = int(onnx.AttrInt(c.n, "num_outputs", int64(n)))
		}
		d := shape[axis]
		part := (d + n - 1) / n
		for lo := 0; lo < d; lo += part {
			sizes = append(sizes, min(part, d-lo))
		}
	}
	total := 0
	for _, s := range sizes {
		if s <= 0 {
			return nil, c.unsupported(fmt.Sprintf("a part of size %d", s), "Gorgonia has no empty tensors")
		}
		total += s
	}
	if total != shape[axis] || len(sizes) != len(c.n.Output) {
		return nil, c.errf("split sizes %v for axis %d of %v into %d outputs", sizes, axis, shape, len(c.n.Output))
	}
	outs := make([]value, len(sizes))
	lo := 0
	for i, s := range sizes {
		var y *G.Node = x
		if s != shape[axis] {
			if y, err = ops.Slice(x, []int{lo}, []int{lo + s}, []int{axis}, []int{1}); err != nil {
				return nil, c.wrap(err)
			}
		}
		outs[i] = nodeValue(y)
		lo += s
	}
	return outs, nil
}
