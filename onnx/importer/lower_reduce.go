package importer

import "github.com/ssl4dp/ssl4dp/ops"

// lowerReduce: ReduceMean and ReduceSum on run-time tensors (axes as attribute or input by
// opset, keepdims, noop_with_empty_axes), through ops' reductions, which — unlike
// Gorgonia's Sum/Mean — are right over several axes.
func lowerReduce(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	axes, keep, noop, err := reduceArgs(c, in, x.Dims())
	if err != nil {
		return nil, err
	}
	if noop {
		return []value{nodeValue(x)}, nil
	}
	f := ops.ReduceSum
	if c.n.GetOpType() == "ReduceMean" {
		f = ops.ReduceMean
	}
	y, err := f(x, axes, keep)
	return one(y, c.wrap(err))
}
