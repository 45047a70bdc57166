package ops

import (
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// BatchNorm (and BatchNorm+ReLU) on a device: batchnorm.cu's statistics kernels (one block
// of bnBlock threads per channel, sums in double in a fixed tree) and elementwise kernels.
// The running statistics live on the device (BNState.ToDevice); the batch's mean and
// 1/√(var+eps) stay there for the backward pass in bnRun.dev.

const bnBlock = 256

// ToDevice moves the running statistics to e's device (float32). The host values are
// copied once; from then on the device's are updated in place. FromDevice brings them back.
func (st *BNState) ToDevice(e *device.Engine) error {
	for _, t := range []**tensor.Dense{&st.Mean, &st.Var} {
		if device.Of(*t) != nil {
			continue
		}
		d, err := e.Upload(*t)
		if err != nil {
			return errorf("BatchNorm state: %w", err)
		}
		*t = d
	}
	return nil
}

// FromDevice copies the running statistics back into host tensors (for checkpoints).
func (st *BNState) FromDevice() error {
	for _, t := range []**tensor.Dense{&st.Mean, &st.Var} {
		if device.Of(*t) == nil {
			continue
		}
		h, err := device.Download(*t)
		if err != nil {
			return errorf("BatchNorm state: %w", err)
		}
		*t = h
	}
	return nil
}

func (op *bnOp) forwardDevice(e *device.Engine, a []*tensor.Dense, y *tensor.Dense, n, c, inner int) error {
	if device.Of(op.st.Mean) != e || device.Of(op.st.Var) != e {
		return errorf("BatchNorm: running statistics are on the host, x on %s; move them with BNState.ToDevice", e.Dev.Name())
	}
	if op.run.dev == nil || device.Of(op.run.dev) != e || op.run.dev.Shape()[0] != 2*c {
		op.run.dev = e.New(2 * c)
	}
	mean, invstd := ptr(op.run.dev), ptr(op.run.dev).Add(4*c)
	k := newKernels(e)
	eps := float32(op.st.eps())
	if op.run.training {
		k.launch("bn_stats", device.Dim3{c, 1, 1}, device.Dim3{bnBlock, 1, 1}, ptr(a[0]), mean, invstd,
			ptr(op.st.Mean), ptr(op.st.Var), n, c, inner, eps, float32(op.st.Momentum), op.st.Unbiased)
	} else {
		k.launch1D("bn_eval_stats", c, ptr(op.st.Mean), ptr(op.st.Var), mean, invstd, c, eps)
	}
	k.launch1D("bn_apply", n*c*inner, ptr(a[0]), mean, invstd, ptr(a[1]), ptr(a[2]), ptr(y), n*c*inner, c, inner, op.relu)
	return k.done(op.kind())
}

// devStats returns the forward pass's device mean and invstd.
func (op *bnOp) devStats(e *device.Engine) (mean, invstd device.Ptr, err error) {
	c := op.x[1]
	if op.run.dev == nil || device.Of(op.run.dev) != e {
		return 0, 0, errorf("%s gradient: the forward pass did not run on %s", op.kind(), e.Dev.Name())
	}
	return ptr(op.run.dev), ptr(op.run.dev).Add(4 * c), nil
}

// statsGradDevice: (x, y, dy) → [dscale; dbias].
func (op *bnDiffStatsOp) statsGradDevice(e *device.Engine, a []*tensor.Dense, st *tensor.Dense) error {
	mean, invstd, err := op.devStats(e)
	if err != nil {
		return err
	}
	n, c := op.x[0], op.x[1]
	inner := op.x.TotalSize() / (n * c)
	k := newKernels(e)
	k.launch("bn_stats_grad", device.Dim3{c, 1, 1}, device.Dim3{bnBlock, 1, 1}, ptr(a[0]), ptr(a[1]), ptr(a[2]),
		mean, invstd, ptr(st), n, c, inner, op.relu)
	return k.done(op.kind() + " dscale,dbias")
}

// inputGradDevice: (x, scale, y, dy, [dscale; dbias]) → dx.
func (op *bnDiffXOp) inputGradDevice(e *device.Engine, a []*tensor.Dense, dx *tensor.Dense) error {
	mean, invstd, err := op.devStats(e)
	if err != nil {
		return err
	}
	n, c := op.x[0], op.x[1]
	inner := op.x.TotalSize() / (n * c)
	k := newKernels(e)
	k.launch1D("bn_input_grad", n*c*inner, ptr(a[0]), ptr(a[1]), ptr(a[2]), ptr(a[3]), mean, invstd, ptr(a[4]), ptr(dx),
		n, c, inner, op.relu, op.run.training)
	return k.done(op.kind() + " dx")
}
