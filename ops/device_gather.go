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
