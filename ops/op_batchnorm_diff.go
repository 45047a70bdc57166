package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BatchNorm's gradients, with x̂ = (x − mean)·invstd using the statistics the forward run
// recorded (batch statistics in training, running ones in eval), M = N·H·W, and g = dy (or,
// for BatchNormRelu, g = dy where y > 0 and 0 elsewhere):
//
//	dscale = Σ g·x̂, dbias = Σ g                        (bnDiffStatsOp, one pass: [2C])
//	dx     = scale·invstd·(g − dbias/M − x̂·dscale/M)  training: mean and var depend on x
//	dx     = scale·invstd·g                           eval: an affine map

// bnDiffStatsOp: (x, y, dy) → [dscale; dbias] ([2C]). y orders it after the forward pass and,
// with the ReLU fused, masks dy.
type bnDiffStatsOp struct {
	*bnOp
	buf outBuf // its own, not the forward op's
}

func (op *bnDiffStatsOp) Arity() int { return 3 }
func (op *bnDiffStatsOp) Type() hm.Type {
	d := op.x.Dims()
	return dimsFnType(d, d, d, 1)
}
func (op *bnDiffStatsOp) Hashcode() uint32      { return hashOf(op) }
func (op *bnDiffStatsOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op *bnDiffStatsOp) String() string        { return "dscale,dbias/" + op.bnOp.String() }
func (op *bnDiffStatsOp) DiffWRT(n int) []bool  { return make([]bool, n) }
func (op *bnDiffStatsOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errorf("BatchNorm: second derivatives are not implemented")
}

func (op *bnDiffStatsOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes("BatchNorm dscale,dbias", in, 3); err != nil {
		return nil, err
	}
	return tensor.Shape{2 * op.x[1]}, nil
}

func (op *bnDiffStatsOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *bnDiffStatsOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp(op.kind()+" ∂γβ", backward, 0)()
	a, err := denseInputs("BatchNorm dscale,dbias", 3, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.x) || !a[1].Shape().Eq(op.x) || !a[2].Shape().Eq(op.x) {
		return nil, errorf("BatchNorm dscale,dbias: got x %v, y %v and dy %v, want %v", a[0].Shape(), a[1].Shape(), a[2].Shape(), op.x)
	}
	op.run.mu.Lock()
	defer op.run.mu.Unlock()
	if len(op.run.mean) != op.x[1] {
		return nil, errorf("BatchNorm dscale,dbias: %v has not run forward yet", op.bnOp)
	}
	if e, err := devOf("BatchNorm dscale,dbias", a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		st := op.buf.onDevice(e, prealloc, tensor.Shape{2 * op.x[1]})
		return st, op.statsGradDevice(e, a, st)
	}
	st := op.buf.get(prealloc, a[0].Dtype(), tensor.Shape{2 * op.x[1]})
	if a[0].Dtype() == tensor.Float32 {
		bnStatsGrad(op.bnOp, elems[float32](a[0]), elems[float32](a[1]), elems[float32](a[2]), elems[float32](st))
	} else {
		bnStatsGrad(op.bnOp, elems[float64](a[0]), elems[float64](a[1]), elems[float64](a[2]), elems[float64](st))
	}
	return st, nil
}

// bnStatsGrad writes dscale into st[:C] and dbias into st[C:].
func bnStatsGrad[T Float](op *bnOp, x, y, dy, st []T) {
	n, c := op.x[0], op.x[1]
	inner := op.x.TotalSize() / (n * c)
	parallelFor(c, 2*len(x), func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			mean := op.run.mean[ci]
			var dot, sum float64
			for ni := 0; ni < n; ni++ {
				o := (ni*c + ci) * inner
				var d, s float64
				if op.relu {
					d, s = maskedDotDevSum(dy[o:o+inner], y[o:o+inner], x[o:o+inner], mean)
				} else {
					d, s = dotDevSumF64(dy[o:o+inner], x[o:o+inner], mean)
				}
				dot, sum = dot+d, sum+s
			}
			st[ci], st[c+ci] = T(dot*op.run.invstd[ci]), T(sum)
		}
	})
}

// bnDiffXOp: (x, scale, y, dy, [dscale; dbias]) → dx. y orders it after the forward pass and,
// with the ReLU fused, masks dy.
type bnDiffXOp struct {
	*bnOp
	buf outBuf // its own, not the forward op's
}

func (op *bnDiffXOp) Arity() int { return 5 }
func (op *bnDiffXOp) Type() hm.Type {
	d := op.x.Dims()
	return dimsFnType(d, 1, d, d, 1, d)
}
func (op *bnDiffXOp) Hashcode() uint32      { return hashOf(op) }
func (op *bnDiffXOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op *bnDiffXOp) String() string        { return "dx/" + op.bnOp.String() }
func (op *bnDiffXOp) DiffWRT(n int) []bool  { return make([]bool, n) }
func (op *bnDiffXOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errorf("BatchNorm: second derivatives are not implemented")
}

func (op *bnDiffXOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes("BatchNorm dx", in, 5); err != nil {
		return nil, err
	}
	return op.x.Clone(), nil
}

func (op *bnDiffXOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *bnDiffXOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp(op.kind()+" ∂x", backward, 0)()
	a, err := denseInputs("BatchNorm dx", 5, in)
	if err != nil {
		return nil, err
	}
	c := op.x[1]
	if !a[0].Shape().Eq(op.x) || !a[2].Shape().Eq(op.x) || !a[3].Shape().Eq(op.x) || !a[1].Shape().Eq(tensor.Shape{c}) || !a[4].Shape().Eq(tensor.Shape{2 * c}) {
		return nil, errorf("BatchNorm dx: got x %v, scale %v, y %v, dy %v, [dscale; dbias] %v; want x, y and dy %v, scale [%d], the sums [%d]",
			a[0].Shape(), a[1].Shape(), a[2].Shape(), a[3].Shape(), a[4].Shape(), op.x, c, 2*c)
	}
	op.run.mu.Lock()
	defer op.run.mu.Unlock()
	if len(op.run.mean) != c {
		return nil, errorf("BatchNorm dx: %v has not run forward yet", op.bnOp)
	}
	if e, err := devOf("BatchNorm dx", a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		dx := op.buf.onDevice(e, prealloc, op.x)
		return dx, op.inputGradDevice(e, a, dx)
	}
	dx := op.buf.get(prealloc, a[0].Dtype(), op.x)
	if a[0].Dtype() == tensor.Float32 {
		st := elems[float32](a[4])
		bnInputGrad(op.bnOp, elems[float32](a[0]), elems[float32](a[1]), elems[float32](a[2]), elems[float32](a[3]), st[:c], st[c:], elems[float32](dx))
	} else {
		st := elems[float64](a[4])
		bnInputGrad(op.bnOp, elems[float64](a[0]), elems[float64](a[1]), elems[float64](a[2]), elems[float64](a[3]), st[:c], st[c:], elems[float64](dx))
	}
	return dx, nil
}

func bnInputGrad[T Float](op *bnOp, x, scale, y, dy, ds, db, dx []T) {
	n, c := op.x[0], op.x[1]
	inner := op.x.TotalSize() / (n * c)
	m := float64(n * inner)
	parallelFor(c, len(x), func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			mean, invstd := op.run.mean[ci], op.run.invstd[ci]
			k := float64(scale[ci]) * invstd
			// dx = k·dy + (k·(−dbias/M + mean·invstd·dscale/M)) − k·invstd·dscale/M · x; the last
			// two terms vanish in eval mode.
			var c0, c1 float64
			if op.run.training {
				c1 = -k * invstd * float64(ds[ci]) / m
				c0 = -k*float64(db[ci])/m - c1*mean
			}
			for ni := 0; ni < n; ni++ {
				o := (ni*c + ci) * inner
				xs := x[o : o+inner]
				g, out := dy[o : o+inner][:len(xs)], dx[o : o+inner][:len(xs)] // one length: no bounds checks
				if op.relu {
					maskedInputGrad(g, y[o:o+inner], xs, out, k, c1, c0)
					continue
				}
				for j, v := range xs {
					out[j] = T(k*float64(g[j]) + c1*float64(v) + c0)
				}
			}
		}
	})
}
