package ops

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// The pretext heads' ops on a device: MatMul (GEMMs over the plan's matrix offsets),
// L2Normalize (l2norm.cu), ReduceSum/ReduceMean over one run of adjacent axes (reduce.cu;
// a reduction to a scalar leaves the device as a host scalar, like the loss) and
// StopGradient (a device copy).

func (p *matmulPlan) forwardDevice(e *device.Engine, a, b, y *tensor.Dense) error {
	k := newKernels(e)
	m, kk, n := p.m, p.k, p.n
	if p.fold {
		k.gemm(false, false, len(p.aOff)*m, n, kk, 1, ptr(a), kk, ptr(b), n, 0, ptr(y), n)
	} else {
		for t := range p.aOff {
			k.gemm(false, false, m, n, kk, 1, ptr(a).Add(4*p.aOff[t]), kk, ptr(b).Add(4*p.bOff[t]), n, 0, ptr(y).Add(4*t*m*n), n)
		}
	}
	return k.done("MatMul")
}

func (p *matmulPlan) backwardDevice(e *device.Engine, wrt int, a, b, dy, d *tensor.Dense) error {
	k := newKernels(e)
	m, kk, n := p.m, p.k, p.n
	batch := len(p.aOff)
	switch {
	case p.fold && wrt == 0:
		k.gemm(false, true, batch*m, kk, n, 1, ptr(dy), n, ptr(b), n, 0, ptr(d), kk)
	case p.fold:
		k.gemm(true, false, kk, n, batch*m, 1, ptr(a), kk, ptr(dy), n, 0, ptr(d), n)
	default:
		k.zero(ptr(d), d.Shape().TotalSize())
		for t := 0; t < batch; t++ {
			g := ptr(dy).Add(4 * t * m * n)
			if wrt == 0 {
				k.gemm(false, true, m, kk, n, 1, g, n, ptr(b).Add(4*p.bOff[t]), n, 1, ptr(d).Add(4*p.aOff[t]), kk)
			} else {
				k.gemm(true, false, kk, n, m, 1, ptr(a).Add(4*p.aOff[t]), kk, g, n, 1, ptr(d).Add(4*p.bOff[t]), n)
			}
		}
	}
	return k.done("MatMul gradient")
}

func (op l2normOp) forwardDevice(e *device.Engine, x *tensor.Dense) (*tensor.Dense, error) {
	y := op.buf.onDevice(e, nil, op.in)
	outer, n, inner := splitAt(op.in, op.axis)
	k := newKernels(e)
	k.launch1D("l2norm_fwd", outer*inner, ptr(x), ptr(y), outer, n, inner, float32(op.eps))
	return y, k.done("L2Normalize")
}

func (op l2normOp) backwardDevice(e *device.Engine, buf *outBuf, x, y, g *tensor.Dense) (*tensor.Dense, error) {
	dx := buf.onDevice(e, nil, op.in)
	outer, n, inner := splitAt(op.in, op.axis)
	k := newKernels(e)
	k.launch1D("l2norm_bwd", outer*inner, ptr(x), ptr(y), ptr(g), ptr(dx), outer, n, inner, float32(op.eps))
	return dx, k.done("L2Normalize gradient")
}

// run returns the reduction as (outer, n, inner) when its axes are one adjacent run.
func (op reduceOp) run() (outer, n, inner int, err error) {
	first, last := -1, -1
	for i, r := range op.reduced {
		if r {
			if first < 0 {
				first = i
			} else if last != i-1 {
				return 0, 0, 0, errorf("%s: axes %v are not adjacent; on a device only one run of adjacent axes reduces", op.name, op.axes())
			}
			last = i
		}
	}
	outer, n, inner = 1, 1, 1
	for i, d := range op.in {
		switch {
		case first >= 0 && i < first:
			outer *= d
		case first >= 0 && i <= last:
			n *= d
		default:
			inner *= d
		}
	}
	return outer, n, inner, nil
}

func (op reduceOp) forwardDevice(e *device.Engine, x *tensor.Dense) (G.Value, error) {
	outer, n, inner, err := op.run()
	if err != nil {
		return nil, err
	}
	div := 1
	if op.mean {
		div = n
	}
	k := newKernels(e)
	if len(op.out) == 0 { // a scalar: out to the host (the kept one-element tensor marks the op as on the device)
		y := ptr(op.buf.onDevice(e, nil, tensor.Shape{1}))
		k.launch1D("reduce_axis", 1, ptr(x), y, outer, n, inner, div)
		s := make([]float32, 1)
		if k.err == nil {
			k.err = e.Dev.CopyOut(device.Bytes32(s), y)
		}
		return G.NewF32(s[0]), k.done(op.name)
	}
	y := op.buf.onDevice(e, nil, op.out)
	k.launch1D("reduce_axis", outer*inner, ptr(x), ptr(y), outer, n, inner, div)
	return y, k.done(op.name)
}

// ranOn is the device a scalar reduction's forward pass ran on (its kept tensor's), or nil.
func (op reduceOp) ranOn() *device.Engine {
	if op.buf == nil || len(op.out) != 0 {
		return nil
	}
	return device.Of(op.buf.t)
}

// backwardDevice takes the output gradient on the device, or as a host scalar (a scalar
// reduction's seed), which it uploads.
func (op reduceOp) backwardDevice(e *device.Engine, buf *outBuf, g G.Value) (*tensor.Dense, error) {
	outer, n, inner, err := op.run()
	if err != nil {
		return nil, err
	}
	div := 1
	if op.mean {
		div = n
	}
	k := newKernels(e)
	var gp device.Ptr
	if t, ok := g.(*tensor.Dense); ok && device.Of(t) == e {
		gp = ptr(t)
	} else {
		s, err := scalarArg[float32](g)
		if err != nil {
			return nil, errorf("%sDiff: output gradient: %w", op.name, err)
		}
		gp = k.f32s([]float32{s})
	}
	dx := buf.onDevice(e, nil, op.in)
	k.launch1D("reduce_axis_bwd", op.in.TotalSize(), gp, ptr(dx), outer, n, inner, div)
	return dx, k.done(op.name + "Diff")
}

// stopGradDevice copies x into a new device tensor (the output must not alias the input).
func stopGradDevice(e *device.Engine, x *tensor.Dense) (*tensor.Dense, error) {
	y := e.New(x.Shape().Clone()...)
	if err := e.Dev.Copy(ptr(y), ptr(x), 4*x.Shape().TotalSize()); err != nil {
		return nil, errorf("StopGradient on %s: %w", e.Dev.Name(), err)
	}
	return y, nil
}
