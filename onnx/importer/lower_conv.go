package importer

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops"
)

// lowerConv: ONNX Conv on 4-D inputs → ops.Conv2D (bias, groups, dilations, strides,
// asymmetric pads, auto_pad).
func lowerConv(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	w, err := c.nodeOf(in, 1)
	if err != nil {
		return nil, err
	}
	if x.Dims() != 4 || w.Dims() != 4 {
		return nil, c.unsupported(fmt.Sprintf("a convolution of input %v with weight %v", x.Shape(), w.Shape()),
			"only 2-D convolutions (4-D input and weight) are supported")
	}
	kernel := []int{w.Shape()[2], w.Shape()[3]}
	if err := c.checkKernelShape(kernel); err != nil {
		return nil, err
	}
	win, err := c.window(x.Shape()[2:], kernel, true)
	if err != nil {
		return nil, err
	}
	p := ops.ConvParams{Stride: win.stride, Pads: win.pads, Dilation: win.dil, Groups: int(onnx.AttrInt(c.n, "group", 1))}
	if len(in) > 2 && in[2].present() {
		b, err := c.nodeOf(in, 2)
		if err != nil {
			return nil, err
		}
		y, err := ops.Conv2D(x, w, b, p)
		return one(y, c.wrap(err))
	}
	y, err := ops.Conv2D(x, w, nil, p)
	return one(y, c.wrap(err))
}

// checkKernelShape verifies an explicit kernel_shape against the weight's.
func (c *nodeCtx) checkKernelShape(kernel []int) error {
	ks := onnx.AttrInts(c.n, "kernel_shape", nil)
	if ks == nil {
		return nil
	}
	if len(ks) != 2 || int(ks[0]) != kernel[0] || int(ks[1]) != kernel[1] {
		return c.errf("kernel_shape %v disagrees with the weight's spatial shape %v", ks, kernel)
	}
	return nil
}
