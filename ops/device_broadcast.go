package ops

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// Add, Sub, Mul, Div with broadcasting on a device: broadcast.cu's arith_broadcast and
// arith_broadcast_grad over per-axis tables (shape and operand strides, 0 along broadcast
// axes), as ops.broadcastStrides lays them out.

// aligned is s padded with leading 1s to rank r.
func aligned(s tensor.Shape, r int) []int {
	out := make([]int, r)
	for i := range out {
		out[i] = 1
	}
	copy(out[r-len(s):], s)
	return out
}

func (op arithOp) forwardDevice(e *device.Engine, a, b G.Value) (*tensor.Dense, error) {
	y := op.buf.onDevice(e, nil, op.out)
	out := []int(op.out)
	geo := append(append(append([]int{}, out...), broadcastStrides(op.a, out)...), broadcastStrides(op.b, out)...)
	k := newKernels(e)
	n := op.out.TotalSize()
	k.launch1D("arith_broadcast", n, k.operand(a), k.operand(b), ptr(y), n, len(out), k.ints(geo), int(op.kind))
	return y, k.done(op.kind.String())
}

func (op arithDiffOp) backwardDevice(e *device.Engine, a, b, g G.Value) (*tensor.Dense, error) {
	shape := op.shape()
	d := op.buf.onDevice(e, nil, shape)
	out := []int(op.f.out)
	geo := append(append(append(append(append([]int{}, out...), aligned(shape, len(out))...), rowMajorStrides(out)...),
		broadcastStrides(op.f.a, out)...), broadcastStrides(op.f.b, out)...)
	k := newKernels(e)
	n := max(1, shape.TotalSize())
	k.launch1D("arith_broadcast_grad", n, k.operand(a), k.operand(b), k.operand(g), ptr(d), n, len(out), k.ints(geo), int(op.f.kind), op.wrt, shape.Eq(op.f.out))
	return d, k.done(op.f.kind.String() + " gradient")
}
