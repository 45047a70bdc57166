package ops

import (
	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Helpers shared by the convolution, pooling, BatchNorm and MatMul ops (part A of ops/).

// oneIfZero maps the ONNX convention "0 means 1" for strides, dilations and groups.
func oneIfZero(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// dimsType is the hm type of a tensor with the given number of dimensions over the type
// variable a, the element type every op here is polymorphic in.
func dimsType(dims int) hm.Type {
	return G.TensorType{Dims: dims, Of: hm.TypeVariable('a')}
}

// dimsFnType builds "in0 → in1 → … → out" over tensor types of the given dimensions.
func dimsFnType(dims ...int) hm.Type {
	ts := make([]hm.Type, len(dims))
	for i, d := range dims {
		ts[i] = dimsType(d)
	}
	return hm.NewFnType(ts...)
}

// denseInputs checks an op's run-time inputs: the arity, that each is a dense float32 or
// float64 tensor, and that all share input 0's dtype. Views (slices, transposes) are
// materialised, because the kernels read the backing array in row-major order.
func denseInputs(op string, want int, inputs []G.Value) ([]*tensor.Dense, error) {
	if len(inputs) != want {
		return nil, errorf("%s: got %d inputs, want %d", op, len(inputs), want)
	}
	out := make([]*tensor.Dense, want)
	for i, v := range inputs {
		d, ok := v.(*tensor.Dense)
		if !ok {
			return nil, errorf("%s: input %d is %T, want a *tensor.Dense", op, i, v)
		}
		if dt := d.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
			return nil, errorf("%s: input %d has dtype %v, want float32 or float64", op, i, dt)
		}
		if i > 0 && d.Dtype() != out[0].Dtype() {
			return nil, errorf("%s: input %d has dtype %v, input 0 has %v", op, i, d.Dtype(), out[0].Dtype())
		}
		if d.IsMaterializable() {
			d = d.Materialize().(*tensor.Dense)
		}
		out[i] = d
	}
	return out, nil
}

// elems returns the row-major elements of a float32 or float64 dense tensor that denseInputs
// or an outBuf produced (never a view).
func elems[T Float](d *tensor.Dense) []T {
	return floats[T](d)[:d.Shape().TotalSize()]
}

// inputShapes converts the DimSizers InferShape receives into shapes.
func inputShapes(op string, in []G.DimSizer, want int) ([]tensor.Shape, error) {
	if len(in) != want {
		return nil, errorf("%s: got %d input shapes, want %d", op, len(in), want)
	}
	out := make([]tensor.Shape, len(in))
	for i, d := range in {
		s, ok := d.(tensor.Shape)
		if !ok {
			return nil, errorf("%s: input %d shape is %T, want tensor.Shape", op, i, d)
		}
		out[i] = s
	}
	return out, nil
}
