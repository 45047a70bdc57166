package ops

import (
	"fmt"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Helpers shared by the part-B ops (resize, softmax, cross-entropy, reductions, pad, slice,
// dropout, concat, transpose, broadcasting, L2 normalisation): reading Gorgonia values as
// flat slices, building outputs, types and axis arithmetic.

// valueData returns v's elements in row-major order as []T. Tensors that are views or carry a
// lazy transpose are materialised first, because their backing array is not in logical order.
// Gorgonia scalars (*G.F32, *G.F64) and 0-d tensors come back as a one-element slice.
func valueData[T Float](v G.Value) ([]T, error) {
	switch t := v.(type) {
	case *tensor.Dense:
		if t.IsScalar() {
			x, ok := t.Data().(T)
			if !ok {
				return nil, fmt.Errorf("value holds %v, want %v", t.Dtype(), dtypeOf[T]())
			}
			return []T{x}, nil
		}
		if t.IsMaterializable() {
			m, ok := t.Materialize().(*tensor.Dense)
			if !ok {
				return nil, fmt.Errorf("cannot materialise a %T view", t.Materialize())
			}
			t = m
		}
		d, ok := t.Data().([]T)
		if !ok {
			return nil, fmt.Errorf("value holds %v, want %v", t.Dtype(), dtypeOf[T]())
		}
		return d[:t.Shape().TotalSize()], nil
	case G.Scalar:
		x, ok := t.Data().(T)
		if !ok {
			return nil, fmt.Errorf("scalar holds %v, want %v", t.Dtype(), dtypeOf[T]())
		}
		return []T{x}, nil
	case nil:
		return nil, fmt.Errorf("missing value (nil input)")
	}
	return nil, fmt.Errorf("unsupported value type %T", v)
}

// newValue wraps data as a Gorgonia value of the given shape: a scalar (*G.F32 or *G.F64,
// as Gorgonia's own reductions return) for the empty shape, a *tensor.Dense otherwise.
func newValue[T Float](shape tensor.Shape, data []T) G.Value {
	if len(shape) == 0 {
		switch x := any(data[0]).(type) {
		case float32:
			return G.NewF32(x)
		case float64:
			return G.NewF64(x)
		}
	}
	return tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(data))
}

// dtypeOf is the tensor dtype of T.
func dtypeOf[T Float]() tensor.Dtype {
	var z T
	if _, ok := any(z).(float32); ok {
		return tensor.Float32
	}
	return tensor.Float64
}

// isFloat32 reports whether the op must run in float32 (true) or float64 (false), or fails for
// any other dtype: only the two float types are supported.
func isFloat32(what string, v G.Value) (bool, error) {
	if v == nil {
		return false, errorf("%s: missing input value", what)
	}
	switch v.Dtype() {
	case tensor.Float32:
		return true, nil
	case tensor.Float64:
		return false, nil
	}
	return false, errorf("%s: input dtype is %v, want float32 or float64", what, v.Dtype())
}

// scalarArg reads a gradient that may be a Gorgonia scalar or a one-element tensor.
func scalarArg[T Float](v G.Value) (T, error) {
	d, err := valueData[T](v)
	if err != nil {
		return 0, err
	}
	if len(d) != 1 {
		return 0, fmt.Errorf("want a scalar, got a value of shape %v", v.Shape())
	}
	return d[0], nil
}

// rankType is Gorgonia's type for a value of the given rank: the bare element type variable
// for rank 0 (scalars), a TensorType otherwise.
func rankType(dims int, a hm.TypeVariable) hm.Type {
	if dims == 0 {
		return a
	}
	return G.TensorType{Dims: dims, Of: a}
}

// rankFnType builds the hm function type "in₁ → in₂ → … → out" from ranks, all of element type a.
func rankFnType(out int, ins ...int) hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, len(ins)+1)
	for _, d := range ins {
		ts = append(ts, rankType(d, a))
	}
	ts = append(ts, rankType(out, a))
	return hm.NewFnType(ts...)
}

// onnxAxis turns an ONNX axis (negative counts from the end) into 0…rank-1.
func onnxAxis(what string, axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		return 0, errorf("%s: axis %d out of range for rank %d, want [%d, %d]", what, axis, rank, -rank, rank-1)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

// volume multiplies the sizes.
func volume(s []int) int {
	n := 1
	for _, v := range s {
		n *= v
	}
	return n
}

// rowMajorStrides is the element stride of each axis of a contiguous tensor of this shape.
func rowMajorStrides(s []int) []int {
	st := make([]int, len(s))
	acc := 1
	for i := len(s) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= s[i]
	}
	return st
}

// splitAt views a shape as [outer, shape[axis], inner] around one axis: the layout softmax,
// cross-entropy and L2 normalisation work in.
func splitAt(s []int, axis int) (outer, n, inner int) {
	return volume(s[:axis]), s[axis], volume(s[axis+1:])
}

// checkRunShape fails when a run-time value does not have the shape the graph was built for.
func checkRunShape(what string, v G.Value, want tensor.Shape) error {
	if got := v.Shape(); !got.Eq(want) && !(len(want) == 0 && got.TotalSize() == 1) {
		return errorf("%s: input has shape %v, want %v (shapes are fixed when the graph is built)", what, got, want)
	}
	return nil
}
