package ops

import (
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// Conv2D on a device: the batched layout for every shape (im2col over the whole batch into
// one [C·KH·KW, N·OH·OW] matrix, one GEMM, a permutation to [N, M, OH·OW]), groups = 1. The
// CPU's per-image and by-taps layouts are its cache and padding optimisations; on a GPU one
// wide GEMM is the fast shape. Depthwise convolutions run dwconv.cu's direct kernels. Other
// grouped convolutions (1 < groups < C: ResNeXt, RegNet) share the one im2col over all
// channels and run one GEMM per group: im2col's rows are channel-major, so group g's rows,
// its weights' rows and its outputs' rows are each one contiguous block (the GEMMs take
// pointers into them); col2im and the permutations are the ungrouped ones.

// groupDims are the per-group GEMM sizes: groups, output channels and im2col rows per group.
func (op *convOp) groupDims() (grp, mg, rowsG int) {
	grp = op.p.Groups
	return grp, op.w[0] / grp, op.x[1] / grp * op.g.KH * op.g.KW
}

// f32At is p advanced by n float32 elements.
func f32At(p device.Ptr, n int) device.Ptr { return p.Add(4 * n) }

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
	col, _, ld := op.im2colDevice(k, ptr(a[0]))
	tmp := k.floats(m * ld)
	grp, mg, rowsG := op.groupDims()
	for gi := range grp {
		k.gemm(false, false, mg, ld, rowsG, 1, f32At(ptr(a[1]), gi*mg*rowsG), rowsG, f32At(col, gi*rowsG*ld), ld, 0, f32At(tmp, gi*mg*ld), ld)
	}
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
	k := newKernels(e)
	if op.depthwise() {
		k.launch1D("dwconv_bwd_x", op.x.TotalSize(), append([]any{ptr(w), ptr(dy), ptr(dx)}, op.dwArgs()...)...)
		return k.done("Conv2D depthwise dx")
	}
	rows, ld := op.x[1]*op.g.KH*op.g.KW, op.x[0]*op.g.OH*op.g.OW
	dyb := op.dyBatched(k, ptr(dy))
	dcol := k.floats(rows * ld)
	grp, mg, rowsG := op.groupDims()
	for gi := range grp {
		k.gemm(true, false, rowsG, ld, mg, 1, f32At(ptr(w), gi*mg*rowsG), rowsG, f32At(dyb, gi*mg*ld), ld, 0, f32At(dcol, gi*rowsG*ld), ld)
	}
	k.zero(ptr(dx), op.x.TotalSize())
	k.launch1D("col2im", op.x.TotalSize(), append([]any{dcol, ptr(dx)}, op.geomArgs(ld)...)...)
	return k.done("Conv2D dx")
}

// backwardWDevice: dW = dY·colᵀ over the whole batch.
func (op *convOp) backwardWDevice(e *device.Engine, x, dy, dw *tensor.Dense) error {
	k := newKernels(e)
	if op.depthwise() {
		k.launch1D("dwconv_bwd_w", op.w.TotalSize(), append([]any{ptr(x), ptr(dy), ptr(dw)}, op.dwArgs()...)...)
		return k.done("Conv2D depthwise dw")
	}
	col, _, ld := op.im2colDevice(k, ptr(x))
	dyb := op.dyBatched(k, ptr(dy))
	grp, mg, rowsG := op.groupDims()
	for gi := range grp {
		k.gemm(false, true, mg, rowsG, ld, 1, f32At(dyb, gi*mg*ld), ld, f32At(col, gi*rowsG*ld), ld, 0, f32At(ptr(dw), gi*mg*rowsG), rowsG)
	}
	return k.done("Conv2D dw")
}
