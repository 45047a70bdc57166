package importer

import (
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops"
)

// lowerConcat: Concat along axis (negative allowed); constant parts become constant nodes.
func lowerConcat(c *nodeCtx, in []value) ([]value, error) {
	var xs []*G.Node
	for i := range in {
		if !in[i].present() {
			continue
		}
		x, err := c.nodeOf(in, i)
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
	if len(xs) == 0 {
		return nil, c.errf("Concat has no inputs")
	}
	axis, err := normAxis(int(onnx.AttrInt(c.n, "axis", 0)), xs[0].Dims())
	if err != nil {
		return nil, c.errf("%v", err)
	}
	if len(xs) == 1 {
		return []value{nodeValue(xs[0])}, nil
	}
	y, err := ops.Concat(axis, xs...)
	return one(y, c.wrap(err))
}
