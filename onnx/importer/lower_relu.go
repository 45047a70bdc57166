package importer

import G "gorgonia.org/gorgonia"

// lowerRelu uses Gorgonia's Rectify (x ⊙ [x ≥ 0]); its forward and gradient are checked
// by this package's gradient tests.
func lowerRelu(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	y, err := G.Rectify(x)
	return one(y, c.wrap(err))
}
