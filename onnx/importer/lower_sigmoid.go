package importer

import G "gorgonia.org/gorgonia"

// lowerSigmoid uses Gorgonia's elementwise sigmoid (with its own gradient).
func lowerSigmoid(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	y, err := G.Sigmoid(x)
	return one(y, c.wrap(err))
}
