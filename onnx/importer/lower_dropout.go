package importer

import (
	"hash/fnv"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops"
)

// lowerDropout: the ratio is an attribute before opset 12 and an optional input (default
// 0.5) from then on; the training_mode input a training export sets is ignored, because the
// model's Phase decides. Each node's seed mixes Options.Seed with its name, so two Dropouts
// never share a mask stream and are never merged. The mask output is not computed.
func lowerDropout(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	ratio := float64(onnx.AttrFloat(c.n, "ratio", 0.5))
	if c.opset >= 12 {
		ratio = 0.5
		if len(in) > 1 && in[1].present() {
			k, err := c.konstInput(in, 1, "ratio")
			if err != nil {
				return nil, err
			}
			ratio = k.at(0)
		}
	}
	mask := unavailable("Dropout's mask output is not supported")
	if c.o.NoDropout || ratio == 0 {
		return []value{nodeValue(x), mask}, nil
	}
	h := fnv.New64a()
	h.Write([]byte(c.m.prefix + nodeName(c.n)))
	y, err := ops.Dropout(x, ratio, c.m.Phase, c.o.Seed^int64(h.Sum64()))
	if err != nil {
		return nil, c.wrap(err)
	}
	return []value{nodeValue(y), mask}, nil
}
