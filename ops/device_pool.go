package ops

import (
	"math"

	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// MaxPool2D on a device: pool.cu's maxpool_fwd (each window's max and its argmax) and
// maxpool_bwd (a gather over the windows whose argmax is the input). The backward pass finds
// the argmax again from x, as the CPU's does, so nothing is kept between the passes.

func (op *maxPoolOp) geomArgs() []any {
	g := op.g
	return []any{op.x[0] * op.x[1], g.H, g.W, g.OH, g.OW, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL}
}

// argmaxDevice runs maxpool_fwd into y (scratch when y is 0) and returns the argmax table.
func (op *maxPoolOp) argmaxDevice(k *kernels, x, y device.Ptr) device.Ptr {
	n := op.outShape().TotalSize()
	if y == 0 {
		y = k.floats(n)
	}
	at := k.floats(n)
	k.launch1D("maxpool_fwd", n, append(append([]any{x, y, at}, op.geomArgs()...), float32(math.MaxFloat32))...)
	return at
}

func (op *maxPoolOp) forwardDevice(e *device.Engine, x, y *tensor.Dense) error {
	k := newKernels(e)
	op.argmaxDevice(k, ptr(x), ptr(y))
	return k.done("MaxPool2D")
}

func (op *maxPoolOp) backwardDevice(e *device.Engine, x, dy, dx *tensor.Dense) error {
	k := newKernels(e)
	at := op.argmaxDevice(k, ptr(x), 0)
	k.launch1D("maxpool_bwd", op.x.TotalSize(), append([]any{ptr(dy), at, ptr(dx)}, op.geomArgs()...)...)
	return k.done("MaxPool2D dx")
}

// chanSumDevice is channel_sum: one block per channel, a fixed-order tree in double.
func chanSumDevice(e *device.Engine, x, out *tensor.Dense, n, c, inner int) error {
	k := newKernels(e)
	k.launch("channel_sum", device.Dim3{c, 1, 1}, device.Dim3{bnBlock, 1, 1}, ptr(x), ptr(out), n, c, inner)
	return k.done("channel sum")
}
