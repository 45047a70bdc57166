package importer

import "github.com/ssl4dp/ssl4dp/ops"

// lowerMatMul: numpy matmul (1-D promotion, broadcast batch axes) through ops.MatMul; PSP's
// adaptive pooling arrives here as MatMul(P_h [s,H], x [N,C,H,W]) with P_h folded.
func lowerMatMul(c *nodeCtx, in []value) ([]value, error) {
	a, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	b, err := c.nodeOf(in, 1)
	if err != nil {
		return nil, err
	}
	y, err := ops.MatMul(a, b)
	return one(y, c.wrap(err))
}
