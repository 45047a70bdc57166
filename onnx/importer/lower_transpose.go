package importer

import "github.com/ssl4dp/ssl4dp/ops"

// lowerTranspose: Transpose with perm (default: reversed axes).
func lowerTranspose(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	perm, err := permArg(c, x.Dims())
	if err != nil {
		return nil, err
	}
	y, err := ops.Transpose(x, perm)
	return one(y, c.wrap(err))
}
