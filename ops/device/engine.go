package device

import (
	"gorgonia.org/tensor"
)

// Engine is a tensor.Engine whose memory is a Device's: a tensor.Dense made with
// tensor.WithEngine(e) has its elements on the device (its data pointer is a device address,
// never to be read by the host), and Gorgonia's tape machine built with G.WithEngine(e)
// gives every value it makes this engine. The ops see the engine and run the device's
// kernels (ops/device_*.go); what of Gorgonia still touches values in a step — gradient
// accumulation's Add — dispatches here through tensor's Adder interface.
//
// Only float32 lives on a device (the kernels are float32); a float64 tensor with this engine
// is an error at its first op.
type Engine struct {
	Dev   Device
	owned map[Ptr]int // the allocations this engine made: base → bytes
}

// NewEngine returns the engine over dev.
func NewEngine(dev Device) *Engine { return &Engine{Dev: dev, owned: map[Ptr]int{}} }

// Owns reports whether t's elements are memory this engine allocated. A tensor can carry
// the engine without its memory: Gorgonia's tape machine allocates the outputs of ops that
// call BLAS (its own MatMul) on the host and then gives them the machine's engine.
func (e *Engine) Owns(t *tensor.Dense) bool {
	if t == nil || t.DataSize() == 0 {
		return false
	}
	_, ok := e.owned[PtrOf(t)]
	return ok
}

// adopt makes t, a tensor carrying this engine, own device memory of its size: t itself
// when it does, else t re-pointed at a new allocation (the host memory Gorgonia gave it is
// left to the collector). The values are not copied: adopt is for outputs.
func (e *Engine) adopt(t *tensor.Dense) (*tensor.Dense, error) {
	if e.Owns(t) {
		return t, nil
	}
	n := t.DataSize() * int(t.Dtype().Size())
	mem, err := e.Alloc(int64(n))
	if err != nil {
		return nil, err
	}
	tensor.FromMemory(mem.Uintptr(), mem.MemSize())(t)
	return t, nil
}

// devMem is one allocation as tensor.Memory.
type devMem struct {
	p Ptr
	n int
}

func (m devMem) Uintptr() uintptr { return uintptr(m.p) }
func (m devMem) MemSize() uintptr { return uintptr(m.n) }

// AllocAccessible is false: the host cannot read the memory (tensor marks such tensors
// NativelyInaccessible).
func (e *Engine) AllocAccessible() bool { return false }

func (e *Engine) Alloc(size int64) (tensor.Memory, error) {
	p, err := e.Dev.Alloc(int(size))
	if err != nil {
		return nil, err
	}
	e.owned[p] = int(size)
	return devMem{p, int(size)}, nil
}

func (e *Engine) Free(mem tensor.Memory, size int64) error {
	delete(e.owned, Ptr(mem.Uintptr()))
	return e.Dev.Free(Ptr(mem.Uintptr()))
}

// Memset supports what Gorgonia asks of an engine in a step: zero.
func (e *Engine) Memset(mem tensor.Memory, val any) error {
	switch v := val.(type) {
	case float32:
		if v == 0 {
			return e.Dev.Zero(Ptr(mem.Uintptr()), int(mem.MemSize()))
		}
		n := int(mem.MemSize()) / 4
		g, b := Grid1D(n)
		return e.Dev.Launch("fill", g, b, 0, Ptr(mem.Uintptr()), v, int32(n))
	case float64:
		if v == 0 {
			return e.Dev.Zero(Ptr(mem.Uintptr()), int(mem.MemSize()))
		}
	}
	return errorf("engine: memset to %v (%T) on the device; only float32 values and zero", val, val)
}

func (e *Engine) Memclr(mem tensor.Memory) {
	if err := e.Dev.Zero(Ptr(mem.Uintptr()), int(mem.MemSize())); err != nil {
		panic(err) // tensor's interface has no error here; a bad address is a bug
	}
}

func (e *Engine) Memcpy(dst, src tensor.Memory) error {
	n := min(dst.MemSize(), src.MemSize())
	return e.Dev.Copy(Ptr(dst.Uintptr()), Ptr(src.Uintptr()), int(n))
}

// Accessible fails: device memory is read through Download.
func (e *Engine) Accessible(mem tensor.Memory) (tensor.Memory, error) {
	return nil, errorf("engine: %s memory is not readable by the host; copy it out with device.Download", e.Dev.Name())
}

// WorksWith is row-major order only (every kernel indexes row-major).
func (e *Engine) WorksWith(order tensor.DataOrder) bool { return order.IsRowMajor() }

// New returns an uninitialised float32 tensor of this shape on the device.
func (e *Engine) New(shape ...int) *tensor.Dense {
	return tensor.New(tensor.Of(tensor.Float32), tensor.WithShape(shape...), tensor.WithEngine(e))
}

// Of returns t's engine when t lives on a device, else nil (a CPU tensor). This one type
// check is all a CPU op pays for the device layer.
func Of(t tensor.Tensor) *Engine {
	if t == nil {
		return nil
	}
	if d, ok := t.(*tensor.Dense); ok && d == nil {
		return nil
	}
	e, _ := t.Engine().(*Engine)
	return e
}

// PtrOf is the device address of a device tensor's first element.
func PtrOf(t *tensor.Dense) Ptr { return Ptr(t.Uintptr()) }

// Upload copies a host float32 tensor (row-major, materialised) to a new device tensor.
func (e *Engine) Upload(t *tensor.Dense) (*tensor.Dense, error) {
	if Of(t) != nil {
		return nil, errorf("engine: upload of a tensor already on a device")
	}
	src, ok := t.Data().([]float32)
	if !ok {
		return nil, errorf("engine: upload of a %v tensor; only float32 lives on the device", t.Dtype())
	}
	d := e.New(t.Shape().Clone()...)
	if err := e.Dev.CopyIn(PtrOf(d), Bytes32(src[:t.Shape().TotalSize()])); err != nil {
		return nil, err
	}
	return d, nil
}

// Download copies a device tensor to a new host tensor of the same shape.
func Download(t *tensor.Dense) (*tensor.Dense, error) {
	e := Of(t)
	if e == nil {
		return nil, errorf("download of a tensor that is not on a device")
	}
	out := make([]float32, t.Shape().TotalSize())
	if err := e.Dev.CopyOut(Bytes32(out), PtrOf(t)); err != nil {
		return nil, err
	}
	return tensor.New(tensor.WithShape(t.Shape().Clone()...), tensor.WithBacking(out)), nil
}

// Add is tensor's Adder for two same-shaped device tensors (Gorgonia's gradient
// accumulation): a + b into the reuse tensor, or into a with UseUnsafe, or a new tensor.
func (e *Engine) Add(a, b tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	return e.binary("add", a, b, opts)
}

// AddScalar is not needed by a step; it fails rather than guess.
func (e *Engine) AddScalar(a tensor.Tensor, b any, leftTensor bool, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	return nil, errorf("engine: tensor + scalar on the device is not implemented")
}

// Mul is tensor's Muler for two same-shaped device tensors.
func (e *Engine) Mul(a, b tensor.Tensor, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	return e.binary("mul", a, b, opts)
}

// MulScalar is a·s (or s·a) with the scale kernel.
func (e *Engine) MulScalar(a tensor.Tensor, b any, leftTensor bool, opts ...tensor.FuncOpt) (tensor.Tensor, error) {
	s, ok := b.(float32)
	if !ok {
		if t, isT := b.(tensor.Tensor); isT && t.Shape().IsScalar() && Of(t) == nil {
			s, ok = t.Data().(float32)
		}
	}
	if !ok {
		return nil, errorf("engine: tensor × %T on the device; want a float32 host scalar", b)
	}
	x, err := e.dense("MulScalar", a)
	if err != nil {
		return nil, err
	}
	y, err := e.result(x, tensor.ParseFuncOpts(opts...))
	if err != nil {
		return nil, err
	}
	n := x.Shape().TotalSize()
	g, bl := Grid1D(n)
	return y, e.Dev.Launch("scale", g, bl, 0, PtrOf(x), s, PtrOf(y), int32(n))
}

func (e *Engine) binary(kernel string, a, b tensor.Tensor, opts []tensor.FuncOpt) (tensor.Tensor, error) {
	x, err := e.dense(kernel, a)
	if err != nil {
		return nil, err
	}
	z, err := e.dense(kernel, b)
	if err != nil {
		return nil, err
	}
	if !x.Shape().Eq(z.Shape()) {
		return nil, errorf("engine: %s of shapes %v and %v on the device; broadcasting is the ops' job", kernel, x.Shape(), z.Shape())
	}
	fo := tensor.ParseFuncOpts(opts...)
	if fo.Incr() != nil {
		return nil, errorf("engine: %s with an increment tensor is not implemented", kernel)
	}
	y, err := e.result(x, fo)
	if err != nil {
		return nil, err
	}
	n := x.Shape().TotalSize()
	g, bl := Grid1D(n)
	return y, e.Dev.Launch(kernel, g, bl, 0, PtrOf(x), PtrOf(z), PtrOf(y), int32(n))
}

// result is where an elementwise result goes: the reuse tensor, x itself when unsafe, or new.
func (e *Engine) result(x *tensor.Dense, fo *tensor.OpOpt) (*tensor.Dense, error) {
	if r := fo.Reuse(); r != nil {
		y, err := e.dense("reuse", r)
		if err != nil {
			return nil, err
		}
		if y.Shape().TotalSize() != x.Shape().TotalSize() {
			return nil, errorf("engine: reuse tensor has shape %v, want %v", y.Shape(), x.Shape())
		}
		return y, nil
	}
	if !fo.Safe() {
		return x, nil
	}
	return e.New(x.Shape().Clone()...), nil
}

// MatMul is tensor's MatMuler (Gorgonia's own matrix product, the importer's Gemm): one
// device GEMM. An operand Gorgonia transposed lazily (its gradients: a.T() around the call)
// is passed to the GEMM as transposed, its memory untouched; the result tensor is adopted
// onto the device when the machine allocated it on the host.
func (e *Engine) MatMul(a, b, prealloc tensor.Tensor) error {
	A, ta, lda, err := e.matrix("MatMul", a)
	if err != nil {
		return err
	}
	B, tb, ldb, err := e.matrix("MatMul", b)
	if err != nil {
		return err
	}
	c, ok := prealloc.(*tensor.Dense)
	if !ok || Of(c) != e || c.Dtype() != tensor.Float32 {
		return errorf("engine: MatMul into a %T that is not a float32 tensor of this engine", prealloc)
	}
	if c, err = e.adopt(c); err != nil {
		return err
	}
	m, k, n := a.Shape()[0], a.Shape()[1], b.Shape()[1]
	return e.Dev.Gemm(ta, tb, m, n, k, 1, A, lda, B, ldb, 0, PtrOf(c), n)
}

// matrix is a 2-D device operand as a GEMM takes it: address, transposed, leading dimension.
func (e *Engine) matrix(what string, t tensor.Tensor) (Ptr, bool, int, error) {
	d, ok := t.(*tensor.Dense)
	if !ok || Of(d) != e || d.Dtype() != tensor.Float32 || d.Dims() != 2 {
		return 0, false, 0, errorf("engine: %s of a %T %v; want a float32 matrix on %s", what, t, t.Shape(), e.Dev.Name())
	}
	s, st := d.Shape(), d.Strides()
	switch {
	case st[1] == 1 && st[0] == s[1]: // row-major
		return PtrOf(d), false, s[1], nil
	case st[0] == 1 && st[1] == s[0]: // a lazy transpose of a row-major [s1, s0]
		return PtrOf(d), true, s[0], nil
	}
	return 0, false, 0, errorf("engine: %s of a %v matrix with strides %v (a view the GEMM cannot read)", what, s, st)
}

// dense checks that t is a materialised float32 device tensor of this engine's device.
func (e *Engine) dense(what string, t tensor.Tensor) (*tensor.Dense, error) {
	d, ok := t.(*tensor.Dense)
	if !ok {
		return nil, errorf("engine: %s of a %T; want *tensor.Dense", what, t)
	}
	if te := Of(d); te == nil || te.Dev != e.Dev {
		return nil, errorf("engine: %s mixes a tensor not on %s with device tensors (upload it first)", what, e.Dev.Name())
	}
	if d.Dtype() != tensor.Float32 {
		return nil, errorf("engine: %s of a %v tensor; only float32 lives on the device", what, d.Dtype())
	}
	if d.IsMaterializable() {
		return nil, errorf("engine: %s of a view or lazily transposed tensor on the device", what)
	}
	return d, nil
}
