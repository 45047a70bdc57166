package importer

import "github.com/ssl4dp/ssl4dp/ops"

// lowerRelu uses ops.Relu: one pass each way (Gorgonia's Rectify is a comparison, a mask
// and a product, with a clone per pass) and PyTorch's gradient convention at 0.
func lowerRelu(c *nodeCtx, in []value) ([]value, error) {
	if len(in) > 0 && in[0].reluFused { // the BatchNormalization before it applied it
		return []value{nodeValue(in[0].node)}, nil
	}
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	y, err := ops.Relu(x)
	return one(y, c.wrap(err))
}
