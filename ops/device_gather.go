package ops

import (
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// gatherDevice is gatherValue on a device (Slice, Pad, and every op built on an indexMap):
// copy.cu's gather_axes over the map's own per-axis tables of source offsets.
func gatherDevice(what string, e *device.Engine, buf *outBuf, m indexMap, src *tensor.Dense, fill float32) (*tensor.Dense, error) {
	shape := tensor.Shape(m.shape)
	if len(shape) == 0 {
		return nil, errorf("%s: a scalar result on the device is not supported", what)
	}
	y := buf.onDevice(e, nil, shape)
	var off, maps []int
	for _, mp := range m.maps {
		off = append(off, len(maps))
		maps = append(maps, mp...)
	}
	k := newKernels(e)
	n := shape.TotalSize()
	k.launch1D("gather_axes", n, ptr(src), ptr(y), n, len(shape), k.ints(m.shape), k.ints(off), k.ints(maps), fill)
	return y, k.done(what)
}

// copyStrided is copy.cu's copy_strided: dst[doff + Σ c·dstride] = src[soff + Σ c·sstride]
// over every coordinate c of shape.
func copyStrided(k *kernels, src, dst device.Ptr, shape, sstride, dstride []int, soff, doff int) {
	n := tensor.Shape(shape).TotalSize()
	k.launch1D("copy_strided", n, src, dst, n, len(shape), k.ints(shape), k.ints(sstride), k.ints(dstride), soff, doff)
}

// concatDevice places every input at its offset along the axis of the output.
func (op concatOp) forwardDevice(e *device.Engine, xs []*tensor.Dense) (*tensor.Dense, error) {
	y := op.buf.onDevice(e, nil, op.out)
	ost := rowMajorStrides(op.out)
	k := newKernels(e)
	at := 0
	for i, x := range xs {
		copyStrided(k, ptr(x), ptr(y), op.ins[i], rowMajorStrides(op.ins[i]), ost, 0, at*ost[op.axis])
		at += op.ins[i][op.axis]
	}
	return y, k.done("Concat")
}

// backwardDevice is the inverse permutation: g's element at output coordinate c goes to the
// input offset Σ c_d·stride_in[perm[d]].
func (op transposeOp) backwardDevice(e *device.Engine, buf *outBuf, g *tensor.Dense) (*tensor.Dense, error) {
	dx := buf.onDevice(e, nil, op.in)
	ist := rowMajorStrides(op.in)
	dst := make([]int, len(op.perm))
	for d, p := range op.perm {
		dst[d] = ist[p]
	}
	k := newKernels(e)
	copyStrided(k, ptr(g), ptr(dx), op.m.shape, rowMajorStrides(op.m.shape), dst, 0, 0)
	return dx, k.done("Transpose gradient")
}

// scatterDevice is scatterValue on a device (Pad's and Slice's gradients): copy.cu's
// scatter_axes over the map inverted per axis — for each source index, the ascending list of
// output indices that read it — so dx is a gather in the CPU's order, no atomics.
func scatterDevice(what string, e *device.Engine, buf *outBuf, m indexMap, out tensor.Shape, g *tensor.Dense) (*tensor.Dense, error) {
	if len(out) == 0 {
		return nil, errorf("%s: a scalar result on the device is not supported", what)
	}
	st := rowMajorStrides(out)
	var invoff, inv []int
	for ax, mp := range m.maps {
		lists := make([][]int, out[ax])
		for o, v := range mp {
			if v >= 0 {
				lists[v/st[ax]] = append(lists[v/st[ax]], o)
			}
		}
		invoff = append(invoff, len(inv))
		rows := len(inv)
		inv = append(inv, make([]int, out[ax]+1)...)
		for i, l := range lists {
			inv[rows+i] = len(inv)
			inv = append(inv, l...)
		}
		inv[rows+out[ax]] = len(inv)
	}
	dx := buf.onDevice(e, nil, out)
	k := newKernels(e)
	n := out.TotalSize()
	k.launch1D("scatter_axes", n, ptr(g), ptr(dx), n, len(out), k.ints(out), k.ints(rowMajorStrides(m.shape)), k.ints(invoff), k.ints(inv))
	return dx, k.done(what)
}
