package ops

import (
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// pointwiseDevice runs ops.Pointwise (forward or gradient) with pointwise.cu's kernels: one
// launch over all elements, the kind and its constants as arguments; the output is kept on
// the device.
func pointwiseDevice(op *pointwiseOp, e *device.Engine, prealloc any, a []*tensor.Dense) (*tensor.Dense, error) {
	y := op.buf.onDevice(e, prealloc, op.in)
	n := op.in.TotalSize()
	k := newKernels(e)
	if op.diff {
		k.launch1D("pointwise_bwd", n, ptr(a[0]), ptr(a[1]), ptr(y), n, int(op.k), op.alpha, op.beta)
	} else {
		k.launch1D("pointwise_fwd", n, ptr(a[0]), ptr(y), n, int(op.k), op.alpha, op.beta)
	}
	return y, k.done(op.name())
}
