package ops

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// Softmax cross-entropy on a device: xent.cu's three launches. The loss leaves the device as
// a host scalar (one float copied out), which is what the engine reads; the label check's
// verdict comes out with it. The backward pass gets the output gradient as that host scalar
// (Gorgonia's seed) and redoes the per-position losses and the count on the device rather
// than keep them from the forward pass.

const xentBlock = 256

// xentStats runs xent_fwd and xent_reduce: the mean loss and [count, first bad position] on
// the device.
func (op xentOp) xentStats(k *kernels, x, labels *tensor.Dense) (out, info device.Ptr) {
	n, c, inner := splitAt(op.logits, 1)
	npos := n * inner
	loss := k.floats(npos)
	out, info = k.floats(1), k.floats(2)
	k.launch1D("xent_fwd", npos, ptr(x), ptr(labels), loss, n, c, inner, op.ignore)
	k.launch("xent_reduce", device.Dim3{1, 1, 1}, device.Dim3{xentBlock, 1, 1}, loss, ptr(labels), out, info, npos, c, op.ignore)
	return out, info
}

// checkInfo copies the label check out and turns a bad label into the CPU op's kind of error.
func (op xentOp) checkInfo(k *kernels, info device.Ptr) error {
	got := make([]int32, 2)
	if k.err == nil {
		k.err = k.e.Dev.CopyOut(device.Bytes32(got), info)
	}
	if k.err == nil && got[1] >= 0 {
		return errorf("SoftmaxCrossEntropy: the label at position %d is neither a class in [0, %d) nor the ignore value %d", got[1], op.logits[1], op.ignore)
	}
	return nil
}

func (op xentOp) forwardDevice(e *device.Engine, x, labels *tensor.Dense) (G.Value, error) {
	k := newKernels(e)
	out, info := op.xentStats(k, x, labels)
	bad := op.checkInfo(k, info)
	loss := make([]float32, 1)
	if k.err == nil {
		k.err = e.Dev.CopyOut(device.Bytes32(loss), out)
	}
	if err := k.done("SoftmaxCrossEntropy"); err != nil {
		return nil, err
	}
	if bad != nil {
		return nil, bad
	}
	return G.NewF32(loss[0]), nil
}

func (op xentOp) backwardDevice(e *device.Engine, buf *outBuf, x, labels *tensor.Dense, g G.Value) (G.Value, error) {
	gs, err := scalarArg[float32](g)
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropyDiff: output gradient: %w", err)
	}
	dx := buf.onDevice(e, nil, op.logits)
	k := newKernels(e)
	_, info := op.xentStats(k, x, labels)
	bad := op.checkInfo(k, info)
	n, c, inner := splitAt(op.logits, 1)
	k.launch1D("xent_bwd", n*inner, ptr(x), ptr(labels), k.f32s([]float32{gs}), info, ptr(dx), n, c, inner, op.ignore)
	if err := k.done("SoftmaxCrossEntropyDiff"); err != nil {
		return nil, err
	}
	if bad != nil {
		return nil, bad
	}
	return dx, nil
}
