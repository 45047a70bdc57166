package ops

import (
	"fmt"
	"hash"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BatchNorm's gradients, with x̂ = (x − mean)·invstd using the statistics the forward run
// recorded (batch statistics in training, running ones in eval), and M = N·H·W:
//
//	dbias  = Σ dy                                     (chanSumOp)
//	dscale = Σ dy·x̂                                   (bnDiffScaleOp)
//	dx     = scale·invstd·(dy − dbias/M − x̂·dscale/M)  training: mean and var depend on x
//	dx     = scale·invstd·dy                          eval: an affine map

// bnDiffScaleOp: (x, y, dy) → dscale [C]. y only orders it after the forward pass.
type bnDiffScaleOp struct {
	*bnOp
	buf outBuf // its own, not the forward op's
}

func (op *bnDiffScaleOp) Arity() int { return 3 }
func (op *bnDiffScaleOp) Type() hm.Type {
	d := op.x.Dims()
	return dimsFnType(d, d, d, 1)
}
func (op *bnDiffScaleOp) Hashcode() uint32      { return hashOf(op) }
func (op *bnDiffScaleOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op *bnDiffScaleOp) String() string        { return "dscale/" + op.bnOp.String() }
func (op *bnDiffScaleOp) DiffWRT(n int) []bool  { return make([]bool, n) }
func (op *bnDiffScaleOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errorf("BatchNorm: second derivatives are not implemented")
}

func (op *bnDiffScaleOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes("BatchNorm dscale", in, 3); err != nil {
		return nil, err
	}
	return tensor.Shape{op.x[1]}, nil
}

func (op *bnDiffScaleOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *bnDiffScaleOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("BatchNorm ∂γβ", backward, 0)()
	a, err := denseInputs("BatchNorm dscale", 3, in)
	if err != nil {
		return nil, err
	}
	if !a[0].Shape().Eq(op.x) || !a[2].Shape().Eq(op.x) {
		return nil, errorf("BatchNorm dscale: got x %v and dy %v, want %v", a[0].Shape(), a[2].Shape(), op.x)
	}
	op.run.mu.Lock()
	defer op.run.mu.Unlock()
	if len(op.run.mean) != op.x[1] {
		return nil, errorf("BatchNorm dscale: %v has not run forward yet", op.bnOp)
	}
	ds := op.buf.get(prealloc, a[0].Dtype(), tensor.Shape{op.x[1]})
	if a[0].Dtype() == tensor.Float32 {
		bnScaleGrad(op.bnOp, elems[float32](a[0]), elems[float32](a[2]), elems[float32](ds))
	} else {
		bnScaleGrad(op.bnOp, elems[float64](a[0]), elems[float64](a[2]), elems[float64](ds))
	}
	return ds, nil
}

func bnScaleGrad[T Float](op *bnOp, x, dy, ds []T) {
	n, c := op.x[0], op.x[1]
	inner := op.x.TotalSize() / (n * c)
	parallelFor(c, len(x), func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			mean := op.run.mean[ci]
			var s float64
			for ni := 0; ni < n; ni++ {
				o := (ni*c + ci) * inner
				g := dy[o : o+inner]
				for k, v := range x[o : o+inner] {
					s += float64(g[k]) * (float64(v) - mean)
				}
			}
			ds[ci] = T(s * op.run.invstd[ci])
		}
	})
}

// bnDiffXOp: (x, scale, y, dy, dscale, dbias) → dx. y only orders it after the forward pass.
type bnDiffXOp struct {
	*bnOp
	buf outBuf // its own, not the forward op's
}

func (op *bnDiffXOp) Arity() int { return 6 }
func (op *bnDiffXOp) Type() hm.Type {
	d := op.x.Dims()
	return dimsFnType(d, 1, d, d, 1, 1, d)
}
func (op *bnDiffXOp) Hashcode() uint32      { return hashOf(op) }
func (op *bnDiffXOp) WriteHash(h hash.Hash) { fmt.Fprintf(h, "%v", op) }
func (op *bnDiffXOp) String() string        { return "dx/" + op.bnOp.String() }
func (op *bnDiffXOp) DiffWRT(n int) []bool  { return make([]bool, n) }
func (op *bnDiffXOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errorf("BatchNorm: second derivatives are not implemented")
}

func (op *bnDiffXOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes("BatchNorm dx", in, 6); err != nil {
		return nil, err
	}
	return op.x.Clone(), nil
}

func (op *bnDiffXOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *bnDiffXOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	defer timeOp("BatchNorm ∂x", backward, 0)()
	a, err := denseInputs("BatchNorm dx", 6, in)
	if err != nil {
		return nil, err
	}
	c := tensor.Shape{op.x[1]}
	if !a[0].Shape().Eq(op.x) || !a[3].Shape().Eq(op.x) || !a[1].Shape().Eq(c) || !a[4].Shape().Eq(c) || !a[5].Shape().Eq(c) {
		return nil, errorf("BatchNorm dx: got x %v, scale %v, dy %v, dscale %v, dbias %v; want x and dy %v, the rest %v",
			a[0].Shape(), a[1].Shape(), a[3].Shape(), a[4].Shape(), a[5].Shape(), op.x, c)
	}
	op.run.mu.Lock()
	defer op.run.mu.Unlock()
	if len(op.run.mean) != op.x[1] {
		return nil, errorf("BatchNorm dx: %v has not run forward yet", op.bnOp)
	}
	dx := op.buf.get(prealloc, a[0].Dtype(), op.x)
	if a[0].Dtype() == tensor.Float32 {
		bnInputGrad(op.bnOp, elems[float32](a[0]), elems[float32](a[1]), elems[float32](a[3]), elems[float32](a[4]), elems[float32](a[5]), elems[float32](dx))
	} else {
		bnInputGrad(op.bnOp, elems[float64](a[0]), elems[float64](a[1]), elems[float64](a[3]), elems[float64](a[4]), elems[float64](a[5]), elems[float64](dx))
	}
	return dx, nil
}

func bnInputGrad[T Float](op *bnOp, x, scale, dy, ds, db, dx []T) {
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
				g, xs, out := dy[o:o+inner], x[o:o+inner], dx[o:o+inner]
				for j, v := range xs {
					out[j] = T(k*float64(g[j]) + c1*float64(v) + c0)
				}
			}
		}
	})
}
