package importer

import (
	"fmt"
	"math"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// konst is a tensor whose value is known at import time: an initializer with role Constant,
// a Constant node, the shape of any tensor (shapes are fixed per import), or anything
// computed from those by the folding evaluator.
//
// Float types keep their values in f (float64, rounded to float32 after every operation
// when dt is FLOAT, so folded results equal what onnxruntime computes); integer and boolean
// types keep theirs in i (bool as 0/1).
type konst struct {
	dt    pb.TensorProto_DataType
	shape []int
	f     []float64
	i     []int64
}

func isFloatType(dt pb.TensorProto_DataType) bool {
	switch dt {
	case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
		return true
	}
	return false
}

func isIntType(dt pb.TensorProto_DataType) bool {
	switch dt {
	case pb.TensorProto_INT64, pb.TensorProto_INT32, pb.TensorProto_INT16, pb.TensorProto_INT8,
		pb.TensorProto_UINT64, pb.TensorProto_UINT32, pb.TensorProto_UINT16, pb.TensorProto_UINT8:
		return true
	}
	return false
}

func numel(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

func (k *konst) isFloat() bool { return isFloatType(k.dt) }
func (k *konst) size() int     { return numel(k.shape) }

// at returns element j as float64 whatever the type.
func (k *konst) at(j int) float64 {
	if k.isFloat() {
		return k.f[j]
	}
	return float64(k.i[j])
}

// atInt returns element j as int64 whatever the type (floats truncate toward zero).
func (k *konst) atInt(j int) int64 {
	if k.isFloat() {
		return int64(k.f[j])
	}
	return k.i[j]
}

// newKonst allocates a zero tensor of the given type and shape.
func newKonst(dt pb.TensorProto_DataType, shape []int) *konst {
	k := &konst{dt: dt, shape: append([]int{}, shape...)}
	if isFloatType(dt) {
		k.f = make([]float64, numel(shape))
	} else {
		k.i = make([]int64, numel(shape))
	}
	return k
}

// set stores v into element j, converting (and rounding) to k's type.
func (k *konst) set(j int, v float64) {
	if k.isFloat() {
		k.f[j] = roundTo(k.dt, v)
		return
	}
	if k.dt == pb.TensorProto_BOOL {
		if v != 0 {
			k.i[j] = 1
		} else {
			k.i[j] = 0
		}
		return
	}
	k.i[j] = int64(v)
}

// roundTo rounds v to the precision of a float type.
func roundTo(dt pb.TensorProto_DataType, v float64) float64 {
	if dt == pb.TensorProto_DOUBLE {
		return v
	}
	return float64(float32(v))
}

func int64Konst(shape []int, v ...int64) *konst {
	return &konst{dt: pb.TensorProto_INT64, shape: shape, i: v}
}

// konstFromTensor decodes an initializer or a Constant node's tensor.
func konstFromTensor(t *pb.TensorProto) (*konst, error) {
	dt := pb.TensorProto_DataType(t.GetDataType())
	k := &konst{dt: dt, shape: onnx.Shape(t)}
	switch {
	case dt == pb.TensorProto_DOUBLE:
		// onnx.Floats converts to float32; read doubles exactly.
		d, err := float64s(t)
		if err != nil {
			return nil, err
		}
		k.f = d
	case isFloatType(dt):
		f, err := onnx.Floats(t)
		if err != nil {
			return nil, err
		}
		k.dt = pb.TensorProto_FLOAT // float16/bfloat16 constants compute as float32
		k.f = make([]float64, len(f))
		for j, v := range f {
			k.f[j] = float64(v)
		}
	case isIntType(dt) || dt == pb.TensorProto_BOOL:
		i, err := onnx.Int64s(t)
		if err != nil {
			return nil, err
		}
		k.i = i
	default:
		return nil, fmt.Errorf("tensor %q has type %v; only float, integer and bool tensors are supported", t.GetName(), dt)
	}
	return k, nil
}

// float64s reads a DOUBLE tensor without losing precision.
func float64s(t *pb.TensorProto) ([]float64, error) {
	if err := onnx.CheckTensor(t); err != nil {
		return nil, err
	}
	n, _ := onnx.NumElements(t.Dims)
	out := make([]float64, n)
	if t.RawData != nil {
		for j := range out {
			var b uint64
			for s := 0; s < 8; s++ {
				b |= uint64(t.RawData[8*j+s]) << (8 * s)
			}
			out[j] = math.Float64frombits(b)
		}
		return out, nil
	}
	copy(out, t.DoubleData)
	return out, nil
}

// ints returns the values as ints (for shapes, axes, pads, ...).
func (k *konst) ints() []int {
	out := make([]int, k.size())
	for j := range out {
		out[j] = int(k.atInt(j))
	}
	return out
}

// floats returns the values as float64.
func (k *konst) floats() []float64 {
	out := make([]float64, k.size())
	for j := range out {
		out[j] = k.at(j)
	}
	return out
}

// strides returns row-major strides of shape.
func strides(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for d := len(shape) - 1; d >= 0; d-- {
		st[d] = s
		s *= shape[d]
	}
	return st
}

// normAxis resolves a possibly negative axis against rank, or reports it out of range.
func normAxis(axis, rank int) (int, error) {
	if axis < -rank || axis >= rank {
		return 0, fmt.Errorf("axis %d is out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}
