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

// windowTables flattens windows into (start, end, count) triples and their inverse: for
// each input index, the range of windows that hold it (pool.cu's avgpool tables).
func windowTables(ws []window, n int) (flat, inv []int32) {
	for _, w := range ws {
		flat = append(flat, int32(w.start), int32(w.end), int32(w.count))
	}
	inv = make([]int32, 2*n)
	for i := 0; i < n; i++ {
		lo, hi := -1, -1
		for o, w := range ws {
			if w.start <= i && i < w.end {
				if lo < 0 {
					lo = o
				}
				hi = o + 1
			}
		}
		if lo < 0 {
			lo, hi = 0, 0
		}
		inv[2*i], inv[2*i+1] = int32(lo), int32(hi)
	}
	return flat, inv
}

// forwardDevice is avgpool_fwd: AvgPool2D, AdaptiveAvgPool2D and GlobalAvgPool2D alike,
// with the CPU op's own windows (so the CPU's sums, in double, in its order).
func (op *avgPoolOp) forwardDevice(e *device.Engine, x, y *tensor.Dense) error {
	h, w := op.x[2], op.x[3]
	rows, _ := windowTables(op.rows, h)
	cols, _ := windowTables(op.cols, w)
	k := newKernels(e)
	planes := op.x[0] * op.x[1]
	k.launch1D("avgpool_fwd", planes*op.oh*op.ow, ptr(x), ptr(y), planes, h, w, op.oh, op.ow, k.int32s(rows), k.int32s(cols))
	return k.done(op.desc)
}

func (op *avgPoolOp) backwardDevice(e *device.Engine, dy, dx *tensor.Dense) error {
	h, w := op.x[2], op.x[3]
	rows, hinv := windowTables(op.rows, h)
	cols, winv := windowTables(op.cols, w)
	k := newKernels(e)
	planes := op.x[0] * op.x[1]
	k.launch1D("avgpool_bwd", planes*h*w, ptr(dy), ptr(dx), planes, h, w, op.oh, op.ow,
		k.int32s(rows), k.int32s(cols), k.int32s(hinv), k.int32s(winv))
	return k.done("d/" + op.desc)
}

// softmaxDevice is softmax.cu's softmax_fwd; backward is softmax_bwd from (y, g).
func (op softmaxOp) forwardDevice(e *device.Engine, x *tensor.Dense) (*tensor.Dense, error) {
	y := op.buf.onDevice(e, nil, op.in)
	outer, n, inner := splitAt(op.in, op.axis)
	k := newKernels(e)
	k.launch1D("softmax_fwd", outer*inner, ptr(x), ptr(y), outer, n, inner, op.log)
	return y, k.done(op.name())
}

func (op softmaxOp) backwardDevice(e *device.Engine, buf *outBuf, y, g *tensor.Dense) (*tensor.Dense, error) {
	dx := buf.onDevice(e, nil, op.in)
	outer, n, inner := splitAt(op.in, op.axis)
	k := newKernels(e)
	k.launch1D("softmax_bwd", outer*inner, ptr(y), ptr(g), ptr(dx), outer, n, inner, op.log)
	return dx, k.done(op.name() + " gradient")
}
