package importer

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops"
)

// poolParams reads MaxPool/AveragePool attributes for a 4-D input.
func (c *nodeCtx) poolParams(x *G.Node, dilations bool) (ops.PoolParams, error) {
	if x.Dims() != 4 {
		return ops.PoolParams{}, c.unsupported(fmt.Sprintf("pooling of a %d-D input %v", x.Dims(), x.Shape()),
			"only 2-D pooling (4-D input) is supported")
	}
	ks := onnx.AttrInts(c.n, "kernel_shape", nil)
	if len(ks) != 2 || ks[0] < 1 || ks[1] < 1 {
		return ops.PoolParams{}, c.errf("kernel_shape %v: want two entries ≥ 1", ks)
	}
	kernel := []int{int(ks[0]), int(ks[1])}
	win, err := c.window(x.Shape()[2:], kernel, dilations)
	if err != nil {
		return ops.PoolParams{}, err
	}
	return ops.PoolParams{Kernel: [2]int{kernel[0], kernel[1]}, Stride: win.stride, Pads: win.pads, Dilation: win.dil,
		CeilMode: onnx.AttrInt(c.n, "ceil_mode", 0) == 1}, nil
}

// lowerMaxPool: MaxPool with ceil_mode and dilations; the Indices output is not computed.
func lowerMaxPool(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	if so := onnx.AttrInt(c.n, "storage_order", 0); so != 0 {
		return nil, c.unsupported(fmt.Sprintf("attribute storage_order=%d", so), "only storage_order=0 (row major) is supported")
	}
	p, err := c.poolParams(x, true)
	if err != nil {
		return nil, err
	}
	y, err := ops.MaxPool2D(x, p)
	if err != nil {
		return nil, c.wrap(err)
	}
	return []value{nodeValue(y), unavailable("MaxPool's Indices output is not supported; use only its first output")}, nil
}

// lowerAveragePool: AveragePool with ceil_mode and count_include_pad (dilations, opset 19,
// only when all 1).
func lowerAveragePool(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	p, err := c.poolParams(x, false)
	if err != nil {
		return nil, err
	}
	p.CountIncludePad = onnx.AttrInt(c.n, "count_include_pad", 0) == 1
	y, err := ops.AvgPool2D(x, p)
	return one(y, c.wrap(err))
}

// lowerGlobalAveragePool: mean over H and W → [N,C,1,1].
func lowerGlobalAveragePool(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	if x.Dims() != 4 {
		return nil, c.unsupported(fmt.Sprintf("a %d-D input %v", x.Dims(), x.Shape()), "only 4-D inputs are supported")
	}
	y, err := ops.GlobalAvgPool2D(x)
	return one(y, c.wrap(err))
}
