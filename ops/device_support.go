package ops

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// The device side of the ops. An op's Do unwraps its inputs as ever, then asks devOf: nil
// (CPU tensors, the default) runs today's CPU function, unchanged; a device engine runs the
// op's kernels through that device (ops/device_<op>.go), the output allocated on the device.
// One type check per op is all the CPU path pays. Only float32 runs on a device.

// devOf returns the device engine the op's tensor inputs live on, nil when they are host
// tensors, or an error when they are mixed or not float32.
func devOf(what string, a ...*tensor.Dense) (*device.Engine, error) {
	e := device.Of(a[0])
	for i, t := range a[1:] {
		if device.Of(t) != e {
			return nil, errorf("%s: input %d is on %s, input 0 on %s; put every input of a device graph on the device (ops.ToDevice)", what, i+1, where(t), where(a[0]))
		}
	}
	if e != nil && a[0].Dtype() != tensor.Float32 {
		return nil, errorf("%s: %v on the device; only float32 runs there", what, a[0].Dtype())
	}
	return e, nil
}

func where(t *tensor.Dense) string {
	if e := device.Of(t); e != nil {
		return "the " + e.Dev.Name() + " device"
	}
	return "the host"
}

// onDevice is outBuf.get for a device output: the machine's offer or the kept tensor when
// they are this device's, of this shape; else a new device tensor, kept.
func (b *outBuf) onDevice(e *device.Engine, prealloc any, shape tensor.Shape) *tensor.Dense {
	if b == nil {
		b = new(outBuf) // an op value built without a buffer: a fresh tensor every time
	}
	for _, v := range []any{prealloc, b.t} {
		if p, ok := v.(*tensor.Dense); ok && p != nil && device.Of(p) == e && p.Dtype() == tensor.Float32 &&
			p.Shape().Eq(shape) && !p.IsMaterializable() && e.Owns(p) {
			return p
		}
	}
	b.t = e.New(shape.Clone()...)
	return b.t
}

// ptr is a device tensor's address.
func ptr(t *tensor.Dense) device.Ptr { return device.PtrOf(t) }

// kernels runs an op's launches on one device, keeping the first error, and frees the
// scratch memory it allocated when done.
type kernels struct {
	e    *device.Engine
	err  error
	temp []device.Ptr
}

func newKernels(e *device.Engine) *kernels { return &kernels{e: e} }

// launch1D runs kernel with one thread per element of an n-element iteration space (the
// grid-stride kernels), ints converted to the kernels' int.
func (k *kernels) launch1D(kernel string, n int, args ...any) {
	g, b := device.Grid1D(n)
	k.launch(kernel, g, b, args...)
}

// launch runs kernel over grid×block; int arguments become int32 (C int).
func (k *kernels) launch(kernel string, grid, block device.Dim3, args ...any) {
	if k.err != nil {
		return
	}
	for i, a := range args {
		switch v := a.(type) {
		case int:
			args[i] = int32(v)
		case bool:
			args[i] = b2i32(v)
		}
	}
	k.err = k.e.Dev.Launch(kernel, grid, block, 0, args...)
}

// floats allocates n float32 of scratch, freed by done.
func (k *kernels) floats(n int) device.Ptr {
	if k.err != nil {
		return 0
	}
	p, err := k.e.Dev.Alloc(4 * max(n, 1))
	if err != nil {
		k.err = err
		return 0
	}
	k.temp = append(k.temp, p)
	return p
}

// ints uploads a table of ints (shapes, strides, index maps) as scratch.
func (k *kernels) ints(v []int) device.Ptr {
	s := make([]int32, len(v))
	for i, x := range v {
		s[i] = int32(x)
	}
	return k.int32s(s)
}

func (k *kernels) int32s(s []int32) device.Ptr {
	p := k.floats(len(s))
	if k.err == nil {
		k.err = k.e.Dev.CopyIn(p, device.Bytes32(s))
	}
	return p
}

// f32s uploads a float table.
func (k *kernels) f32s(s []float32) device.Ptr {
	p := k.floats(len(s))
	if k.err == nil {
		k.err = k.e.Dev.CopyIn(p, device.Bytes32(s))
	}
	return p
}

func (k *kernels) zero(p device.Ptr, n int) {
	if k.err == nil {
		k.err = k.e.Dev.Zero(p, 4*n)
	}
}

func (k *kernels) gemm(transA, transB bool, m, n, kk int, alpha float32, a device.Ptr, lda int, b device.Ptr, ldb int, beta float32, c device.Ptr, ldc int) {
	if k.err == nil {
		k.err = k.e.Dev.Gemm(transA, transB, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc)
	}
}

// done frees the scratch and returns the first error, prefixed with the op's name.
func (k *kernels) done(what string) error {
	for _, p := range k.temp {
		if err := k.e.Dev.Free(p); err != nil && k.err == nil {
			k.err = err
		}
	}
	k.temp = nil
	if k.err != nil {
		return errorf("%s on %s: %w", what, k.e.Dev.Name(), k.err)
	}
	return nil
}

func b2i32(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// valuesOn is devOf for ops that take Gorgonia values (scalars included): the device engine
// when the tensor inputs are device tensors, nil for host values.
func valuesOn(what string, vs ...G.Value) (*device.Engine, []*tensor.Dense, error) {
	d, ok := vs[0].(*tensor.Dense)
	if !ok || device.Of(d) == nil {
		for i, v := range vs[1:] {
			if t, ok := v.(*tensor.Dense); ok && device.Of(t) != nil {
				return nil, nil, errorf("%s: input %d is on the %s device, input 0 on the host; put every input of a device graph on the device", what, i+1, device.Of(t).Dev.Name())
			}
		}
		return nil, nil, nil
	}
	ts := make([]*tensor.Dense, len(vs))
	for i, v := range vs {
		t, ok := v.(*tensor.Dense)
		if !ok {
			return nil, nil, errorf("%s: input %d is a host %T beside device tensors", what, i, v)
		}
		ts[i] = t
	}
	e, err := devOf(what, ts...)
	return e, ts, err
}

// deviceOf is valuesOn for ops that also take host scalars beside device tensors (a
// constant factor, a temperature): the device engine when any input is a device tensor,
// nil when none is; a host tensor of more than one element beside device tensors is an
// error. The kernels' operand pointers come from operand.
func deviceOf(what string, vs ...G.Value) (*device.Engine, error) {
	var e *device.Engine
	for _, v := range vs {
		if t, ok := v.(*tensor.Dense); ok {
			if d := device.Of(t); d != nil {
				if e != nil && d != e {
					return nil, errorf("%s: inputs on two devices", what)
				}
				e = d
			}
		}
	}
	if e == nil {
		return nil, nil
	}
	for i, v := range vs {
		t, ok := v.(*tensor.Dense)
		if ok && device.Of(t) == e {
			if t.Dtype() != tensor.Float32 {
				return nil, errorf("%s: %v on the device; only float32 runs there", what, t.Dtype())
			}
			continue
		}
		if v == nil || v.Shape().TotalSize() != 1 || v.Dtype() != tensor.Float32 {
			return nil, errorf("%s: input %d is a host %v %T beside device tensors; put every input of a device graph on the device", what, i, v.Shape(), v)
		}
	}
	return e, nil
}

// operand is v's device address: a device tensor's own, or a host float32 scalar copied
// into scratch.
func (k *kernels) operand(v G.Value) device.Ptr {
	if t, ok := v.(*tensor.Dense); ok && device.Of(t) == k.e {
		return ptr(t)
	}
	s, err := valueData[float32](v)
	if err != nil {
		if k.err == nil {
			k.err = err
		}
		return 0
	}
	return k.f32s(s[:1])
}
