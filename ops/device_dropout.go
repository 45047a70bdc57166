package ops

import (
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// Dropout on a device: dropout.cu's dropout_mask draws the CPU's mask on the device (it
// jumps Go's PCG to each element's draw: the same (seed, step) gives the CPU's bits), kept
// in dropoutState.dkeep for the backward pass; dropout_apply scales and masks.

func (op dropoutOp) forwardDevice(e *device.Engine, x *tensor.Dense) (*tensor.Dense, error) {
	n := op.in.TotalSize()
	if op.st.trained {
		if op.st.dkeep == nil || device.Of(op.st.dkeep) != e || op.st.dkeep.Shape().TotalSize() != n {
			op.st.dkeep = e.New(n) // 4-byte elements, read by the kernels as int
		}
		k := newKernels(e)
		k.launch1D("dropout_mask", n, ptr(op.st.dkeep), n, uint64(op.seed), uint64(op.phase.Step)^0x55d4a1d0, op.p)
		if err := k.done("Dropout"); err != nil {
			return nil, err
		}
	}
	return op.apply(e, op.buf, x)
}

// apply is y = x·mask/(1−p) after a training run, a copy after an eval run (forward and
// backward alike).
func (op dropoutOp) apply(e *device.Engine, buf *outBuf, x *tensor.Dense) (*tensor.Dense, error) {
	n := op.in.TotalSize()
	y := buf.onDevice(e, nil, op.in)
	k := newKernels(e)
	switch {
	case !op.st.trained:
		k.err = e.Dev.Copy(ptr(y), ptr(x), 4*n)
	case op.st.dkeep == nil || device.Of(op.st.dkeep) != e:
		return nil, errorf("Dropout: no mask on %s (backward ran without its forward there)", e.Dev.Name())
	default:
		k.launch1D("dropout_apply", n, ptr(x), ptr(op.st.dkeep), ptr(y), n, float32(1/(1-op.p)))
	}
	return y, k.done("Dropout")
}
