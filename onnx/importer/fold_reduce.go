package importer

import (
	"math"

	"github.com/ssl4dp/ssl4dp/onnx"
)

// Folding of reductions and matrix products on import-time constants. PSP's adaptive
// pooling matrices arrive as ReduceSum over a boolean mask cast to float, and MatMul of
// those matrices with each other before they meet the feature map.

// reduceArgs resolves a reduction's axes (attribute before axesInputOpset, input from then
// on), keepdims, and noop_with_empty_axes. noop reports "no axes and noop set": identity.
func reduceArgs(c *nodeCtx, in []value, rank int) (axes []int, keep, noop bool, err error) {
	from := int64(18)
	if c.n.GetOpType() == "ReduceSum" {
		from = 13
	}
	list, ok, err := axesArg(c, in, 1, from)
	if err != nil {
		return nil, false, false, err
	}
	keep = onnx.AttrInt(c.n, "keepdims", 1) == 1
	if !ok || len(list) == 0 {
		if onnx.AttrInt(c.n, "noop_with_empty_axes", 0) == 1 {
			return nil, keep, true, nil
		}
		for d := 0; d < rank; d++ {
			axes = append(axes, d)
		}
		return axes, keep, false, nil
	}
	seen := make([]bool, rank)
	for _, a := range list {
		d, err := normAxis(a, rank)
		if err != nil || seen[d] {
			return nil, false, false, c.errf("axes %v are invalid or repeated for rank %d", list, rank)
		}
		seen[d] = true
		axes = append(axes, d)
	}
	return axes, keep, false, nil
}

// reducedShape is the shape after reducing axes, keeping them as 1s or dropping them.
func reducedShape(shape, axes []int, keep bool) []int {
	red := make([]bool, len(shape))
	for _, a := range axes {
		red[a] = true
	}
	out := []int{}
	for d, n := range shape {
		switch {
		case !red[d]:
			out = append(out, n)
		case keep:
			out = append(out, 1)
		}
	}
	return out
}

func foldReduce(c *nodeCtx, in []value) ([]value, error) {
	k := in[0].k
	axes, keep, noop, err := reduceArgs(c, in, len(k.shape))
	if err != nil {
		return nil, err
	}
	if noop {
		return []value{in[0]}, nil
	}
	red := make([]bool, len(k.shape))
	for _, a := range axes {
		red[a] = true
	}
	keptShape := make([]int, len(k.shape))
	for d, n := range k.shape {
		keptShape[d] = n
		if red[d] {
			keptShape[d] = 1
		}
	}
	op := c.n.GetOpType()
	acc := make([]float64, numel(keptShape))
	cnt := make([]int, len(acc))
	ko := bcastIndexer(keptShape, k.shape) // maps an input index to its reduced slot
	forEachIndex(k.shape, func(j int, idx []int) {
		o, v := ko(idx), k.at(j)
		switch {
		case cnt[o] == 0:
			acc[o] = v
		case op == "ReduceMax":
			acc[o] = math.Max(acc[o], v)
		case op == "ReduceMin":
			acc[o] = math.Min(acc[o], v)
		case op == "ReduceProd":
			acc[o] *= v
		default:
			acc[o] += v
		}
		cnt[o]++
	})
	out := newKonst(k.dt, reducedShape(k.shape, axes, keep))
	for j, v := range acc {
		if op == "ReduceMean" {
			if !k.isFloat() {
				return nil, c.errf("ReduceMean of integer type %v", k.dt)
			}
			v /= float64(max(cnt[j], 1))
		}
		out.set(j, v)
	}
	return []value{konstValue(out)}, nil
}

// matmulShapes resolves numpy matmul shapes: 1-D operands are promoted (and the promoted
// axis dropped from the result), batch dimensions broadcast.
func matmulShapes(a, b []int) (m, k, n int, batch, outShape []int, err error) {
	pa, pb := append([]int{}, a...), append([]int{}, b...)
	if len(pa) == 1 {
		pa = []int{1, pa[0]}
	}
	if len(pb) == 1 {
		pb = []int{pb[0], 1}
	}
	if len(pa) == 0 || len(pb) == 0 {
		return 0, 0, 0, nil, nil, errorf("MatMul of a scalar (shapes %v, %v)", a, b)
	}
	m, k, n = pa[len(pa)-2], pa[len(pa)-1], pb[len(pb)-1]
	if pb[len(pb)-2] != k {
		return 0, 0, 0, nil, nil, errorf("MatMul shapes %v and %v: inner dimensions %d and %d differ", a, b, k, pb[len(pb)-2])
	}
	batch, err = broadcastShapes(pa[:len(pa)-2], pb[:len(pb)-2])
	if err != nil {
		return 0, 0, 0, nil, nil, err
	}
	outShape = append([]int{}, batch...)
	if len(a) > 1 {
		outShape = append(outShape, m)
	}
	if len(b) > 1 {
		outShape = append(outShape, n)
	}
	return m, k, n, batch, outShape, nil
}

func foldMatMul(c *nodeCtx, in []value) ([]value, error) {
	a, b := in[0].k, in[1].k
	if !a.isFloat() || !b.isFloat() {
		return nil, c.errf("MatMul of %v and %v: only float constants are folded", a.dt, b.dt)
	}
	m, kk, n, batch, outShape, err := matmulShapes(a.shape, b.shape)
	if err != nil {
		return nil, c.errf("%v", err)
	}
	// Batch shapes of the promoted operands, for broadcasting their matrix offsets.
	ab, bb := batchOf(a.shape), batchOf(b.shape)
	ia, ib := bcastIndexer(ab, batch), bcastIndexer(bb, batch)
	out := newKonst(a.dt, outShape)
	o := 0
	forEachIndex(batch, func(_ int, idx []int) {
		offA, offB := ia(idx)*m*kk, ib(idx)*kk*n
		for r := 0; r < m; r++ {
			for q := 0; q < n; q++ {
				s := 0.0
				for t := 0; t < kk; t++ {
					s += a.f[offA+r*kk+t] * b.f[offB+t*n+q]
				}
				out.f[o] = roundTo(out.dt, s)
				o++
			}
		}
	})
	return []value{konstValue(out)}, nil
}

// batchOf is the batch part of a matmul operand's shape (nothing for 1-D and 2-D).
func batchOf(s []int) []int {
	if len(s) <= 2 {
		return nil
	}
	return s[:len(s)-2]
}
