package ops

import (
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// Conv2D on a device: the batched layout for every shape (im2col over the whole batch into
// one [C·KH·KW, N·OH·OW] matrix, one GEMM, a permutation to [N, M, OH·OW]), groups = 1. The
// CPU's per-image and by-taps layouts are its cache and padding optimisations; on a GPU one
// wide GEMM is the fast shape. Depthwise convolutions run dwconv.cu's direct kernels; other
// grouped convolutions (1 < groups < C) are not on the device yet.

func (op *convOp) devCheck() error {
	if op.p.Groups > 1 && !op.depthwise() {
		return errorf("Conv2D: grouped convolutions (groups %d of %d channels) do not run on a device yet", op.p.Groups, op.x[1])
	}
	return nil
}

// dwArgs are dwconv.cu's geometry arguments.
func (op *convOp) dwArgs() []any {
	g := op.g
	return []any{op.x[0], op.x[1], op.w[0], g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL, g.OH, g.OW}
}

// geomArgs are im2col.cu's geometry arguments.
func (op *convOp) geomArgs(ld int) []any {
	g := op.g
	return []any{op.x[0], op.x[1], g.H, g.W, g.KH, g.KW, g.SH, g.SW, g.DH, g.DW, g.PT, g.PL, g.OH, g.OW, ld}
}

// im2colDevice builds the batch's column matrix; returns it and its row count and width.
func (op *convOp) im2colDevice(k *kernels, x device.Ptr) (col device.Ptr, rows, ld int) {
	rows, ld = op.x[1]*op.g.KH*op.g.KW, op.x[0]*op.g.OH*op.g.OW
	col = k.floats(rows * ld)
	k.launch1D("im2col", rows*ld, append([]any{x, col}, op.geomArgs(ld)...)...)
	return col, rows, ld
}

func (op *convOp) forwardDevice(e *device.Engine, a []*tensor.Dense, y *tensor.Dense) error {
	if err := op.devCheck(); err != nil {
		return err
	}
	k := newKernels(e)
	if op.depthwise() {
		b := ptr(a[1]) // any valid pointer when there is no bias
		if len(a) > 2 {
			b = ptr(a[2])
		}
		k.launch1D("dwconv_fwd", y.Shape().TotalSize(), append([]any{ptr(a[0]), ptr(a[1]), b, ptr(y), len(a) > 2}, op.dwArgs()...)...)
		return k.done("Conv2D depthwise")
	}
	m, n, ohw := op.w[0], op.x[0], op.g.OH*op.g.OW
	col, rows, ld := op.im2colDevice(k, ptr(a[0]))
	tmp := k.floats(m * ld)
	k.gemm(false, false, m, ld, rows, 1, ptr(a[1]), rows, col, ld, 0, tmp, ld)
	b := tmp // any valid pointer when there is no bias
	if len(a) > 2 {
		b = ptr(a[2])
	}
	k.launch1D("conv_permute_batched", n*m*ohw, tmp, b, ptr(y), n, m, ohw, len(a) > 2)
	return k.done("Conv2D")
}

// dyBatched is dy [N, M, OH·OW] as the batched layout's [M, N·OH·OW].
func (op *convOp) dyBatched(k *kernels, dy device.Ptr) device.Ptr {
	m, n, ohw := op.w[0], op.x[0], op.g.OH*op.g.OW
	dyb := k.floats(m * n * ohw)
	k.launch1D("conv_batch_grads", m*n*ohw, dy, dyb, n, m, ohw)
	return dyb
}

// backwardXDevice: dcol = Wᵀ·dY, then dx = col2im(dcol) (col2im accumulates: dx zeroed first).
func (op *convOp) backwardXDevice(e *device.Engine, w, dy, dx *tensor.Dense) error {
	if err := op.devCheck(); err != nil {
		return err
	}
	k := newKernels(e)
	if op.depthwise() {
		k.launch1D("dwconv_bwd_x", op.x.TotalSize(), append([]any{ptr(w), ptr(dy), ptr(dx)}, op.dwArgs()...)...)
		return k.done("Conv2D depthwise dx")
	}
	m := op.w[0]
	rows, ld := op.x[1]*op.g.KH*op.g.KW, op.x[0]*op.g.OH*op.g.OW
	dyb := op.dyBatched(k, ptr(dy))
	dcol := k.floats(rows * ld)
	k.gemm(true, false, rows, ld, m, 1, ptr(w), rows, dyb, ld, 0, dcol, ld)
	k.zero(ptr(dx), op.x.TotalSize())
	k.launch1D("col2im", op.x.TotalSize(), append([]any{dcol, ptr(dx)}, op.geomArgs(ld)...)...)
	return k.done("Conv2D dx")
}

// backwardWDevice: dW = dY·colᵀ over the whole batch.
func (op *convOp) backwardWDevice(e *device.Engine, x, dy, dw *tensor.Dense) error {
	if err := op.devCheck(); err != nil {
		return err
	}
	k := newKernels(e)
	if op.depthwise() {
		k.launch1D("dwconv_bwd_w", op.w.TotalSize(), append([]any{ptr(x), ptr(dy), ptr(dw)}, op.dwArgs()...)...)
		return k.done("Conv2D depthwise dw")
	}
	m := op.w[0]
	col, rows, ld := op.im2colDevice(k, ptr(x))
	dyb := op.dyBatched(k, ptr(dy))
	k.gemm(false, true, m, rows, ld, 1, dyb, ld, col, ld, 0, ptr(dw), rows)
	return k.done("Conv2D dw")
}
