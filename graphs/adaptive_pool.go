package graphs

import (
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// AdaptiveAvgPool2d is nn.AdaptiveAvgPool2d(bins) for any input size, which ONNX has no op
// for. Bin i of an axis of length L averages the cells start_i ≤ h < end_i with
//
//	start_i = ⌊i·L/s⌋,  end_i = ⌈(i+1)·L/s⌉    (PyTorch's adaptive_avg_pool2d)
//
// so the pooling is a product with an averaging matrix per axis: P[i,h] = 1/(end_i−start_i)
// inside the bin, else 0, and pooled = P_h · x · P_wᵀ. The matrices are computed in the graph
// from Shape(x), in integer arithmetic (exact: ⌈a/s⌉ = ⌊(a+s−1)/s⌋ for a ≥ 0), so one model
// serves every input size, odd ones and L < s included. bins == 1 is GlobalAveragePool.
func (b *Builder) AdaptiveAvgPool2d(name string, x Tensor, bins int) Tensor {
	if bins <= 0 {
		b.Failf("adaptive pool %q: %d bins", name, bins)
		return Tensor{}
	}
	if bins == 1 {
		return b.Op("GlobalAveragePool", name, []Tensor{x})
	}
	shape := b.ShapeOf(x)
	h := b.Op("Gather", name+".H", []Tensor{shape, b.Int(2)}, onnx.IntAttr("axis", 0))
	w := b.Op("Gather", name+".W", []Tensor{shape, b.Int(3)}, onnx.IntAttr("axis", 0))
	ph := b.poolMatrix(name+".Ph", h, bins)
	pwT := b.Op("Transpose", name+".PwT", []Tensor{b.poolMatrix(name+".Pw", w, bins)}, onnx.IntsAttr("perm", 1, 0))
	rows := b.Op("MatMul", name+".rows", []Tensor{ph, x}) // [s,H]·[N,C,H,W] → [N,C,s,W]
	return b.Op("MatMul", name, []Tensor{rows, pwT})      // [N,C,s,W]·[W,s] → [N,C,s,s]
}

// poolMatrix builds the [s, L] averaging matrix of one axis whose length is the int64
// scalar l.
func (b *Builder) poolMatrix(name string, l Tensor, s int) Tensor {
	i := make([]int64, s)
	for k := range i {
		i[k] = int64(k)
	}
	bins := b.Int(int64(s))
	// start = i·L / s and end = ((i+1)·L + s − 1) / s, as [s,1] columns (int64 division of
	// non-negative numbers is the floor).
	start := b.Op("Div", name+".start", []Tensor{b.Op("Mul", name+".iL", []Tensor{b.Ints(i...), l}), bins})
	next := b.Op("Mul", name+".i1L", []Tensor{b.Op("Add", name+".i1", []Tensor{b.Ints(i...), b.Int(1)}), l})
	end := b.Op("Div", name+".end", []Tensor{b.Op("Add", name+".i1Ls", []Tensor{next, b.Int(int64(s - 1))}), bins})
	startCol := b.Op("Unsqueeze", name+".startCol", []Tensor{start, b.Ints(1)})
	endCol := b.Op("Unsqueeze", name+".endCol", []Tensor{end, b.Ints(1)})
	// cells = 0…L−1 as a row; inside[i,h] = start_i ≤ h < end_i.
	cells := b.Op("Range", name+".cells", []Tensor{b.Int(0), l, b.Int(1)})
	inside := b.Op("And", name+".inside", []Tensor{
		b.Op("GreaterOrEqual", name+".geStart", []Tensor{cells, startCol}),
		b.Op("Less", name+".ltEnd", []Tensor{cells, endCol}),
	})
	mask := b.Op("Cast", name+".mask", []Tensor{inside}, onnx.IntAttr("to", int64(pb.TensorProto_FLOAT)))
	count := b.Op("ReduceSum", name+".count", []Tensor{mask, b.Ints(1)}, onnx.IntAttr("keepdims", 1))
	return b.Op("Div", name, []Tensor{mask, count})
}
