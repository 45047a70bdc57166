package importer

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Reshape, Flatten, Squeeze and Unsqueeze on run-time tensors are all one Gorgonia Reshape
// to a shape resolved at import time (the same resolution the folded versions use).

func reshapeNode(c *nodeCtx, in []value, shape []int) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	if tensor.Shape(shape).Eq(x.Shape()) {
		return []value{nodeValue(x)}, nil
	}
	// G.Reshape rewrites a -1 in its argument: hand it a copy.
	y, err := G.Reshape(x, tensor.Shape(append([]int{}, shape...)))
	return one(y, c.wrap(err))
}

func lowerReshape(c *nodeCtx, in []value) ([]value, error) {
	sk, err := c.konstInput(in, 1, "shape")
	if err != nil {
		return nil, err
	}
	s, err := reshapeTarget(c, in[0].shape(), sk)
	if err != nil {
		return nil, err
	}
	return reshapeNode(c, in, s)
}

func lowerFlatten(c *nodeCtx, in []value) ([]value, error) {
	s, err := flattenShape(c, in[0].shape())
	if err != nil {
		return nil, err
	}
	return reshapeNode(c, in, s)
}

func lowerSqueeze(c *nodeCtx, in []value) ([]value, error) {
	s, err := squeezeShape(c, in)
	if err != nil {
		return nil, err
	}
	return reshapeNode(c, in, s)
}

func lowerUnsqueeze(c *nodeCtx, in []value) ([]value, error) {
	s, err := unsqueezeShape(c, in)
	if err != nil {
		return nil, err
	}
	return reshapeNode(c, in, s)
}
