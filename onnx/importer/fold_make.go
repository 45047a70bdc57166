package importer

import (
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Folding of the ops that make tensors from scalars and shapes: ConstantOfShape, Range.

func foldConstantOfShape(c *nodeCtx, in []value) ([]value, error) {
	shape := in[0].k.ints()
	for _, s := range shape {
		if s < 0 {
			return nil, c.errf("shape %v has a negative dimension", shape)
		}
	}
	fill := &konst{dt: pb.TensorProto_FLOAT, shape: []int{1}, f: []float64{0}}
	if t := onnx.AttrTensor(c.n, "value"); t != nil {
		k, err := konstFromTensor(t)
		if err != nil {
			return nil, c.errf("value: %v", err)
		}
		if k.size() != 1 {
			return nil, c.errf("value has %d elements, want 1", k.size())
		}
		fill = k
	}
	out := newKonst(fill.dt, shape)
	for j := 0; j < out.size(); j++ {
		copyElem(out, j, fill, 0)
	}
	return []value{konstValue(out)}, nil
}

func foldRange(c *nodeCtx, in []value) ([]value, error) {
	start, limit, delta := in[0].k, in[1].k, in[2].k
	if delta.at(0) == 0 {
		return nil, c.errf("delta is 0")
	}
	var n int
	if start.isFloat() {
		n = max(0, int(ceil((limit.at(0)-start.at(0))/delta.at(0))))
	} else {
		s, l, d := start.i[0], limit.i[0], delta.i[0]
		n = max(0, int(ceilDiv(l-s, d)))
	}
	out := newKonst(start.dt, []int{n})
	for j := 0; j < n; j++ {
		if start.isFloat() {
			out.set(j, start.at(0)+float64(j)*delta.at(0))
		} else {
			out.i[j] = start.i[0] + int64(j)*delta.i[0]
		}
	}
	return []value{konstValue(out)}, nil
}

// ceilDiv is ⌈a/b⌉ for integers of any sign.
func ceilDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) == (b < 0)) {
		q++
	}
	return q
}
