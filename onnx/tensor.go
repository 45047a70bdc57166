package onnx

import (
	"encoding/binary"
	"fmt"
	"math"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// ElemSize returns the byte size of one element of an ONNX data type, 0 if unknown or variable.
func ElemSize(dt pb.TensorProto_DataType) int {
	switch dt {
	case pb.TensorProto_FLOAT, pb.TensorProto_INT32, pb.TensorProto_UINT32:
		return 4
	case pb.TensorProto_DOUBLE, pb.TensorProto_INT64, pb.TensorProto_UINT64, pb.TensorProto_COMPLEX64:
		return 8
	case pb.TensorProto_UINT8, pb.TensorProto_INT8, pb.TensorProto_BOOL:
		return 1
	case pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16, pb.TensorProto_INT16, pb.TensorProto_UINT16:
		return 2
	case pb.TensorProto_COMPLEX128:
		return 16
	}
	return 0
}

// NumElements is the product of dims, with an error for negative dims or overflow.
func NumElements(dims []int64) (int, error) {
	n := int64(1)
	for _, d := range dims {
		if d < 0 {
			return 0, fmt.Errorf("negative dimension %d in shape %v", d, dims)
		}
		if d != 0 && n > math.MaxInt32*int64(256)/d {
			return 0, fmt.Errorf("shape %v has too many elements", dims)
		}
		n *= d
	}
	return int(n), nil
}

// Shape returns a tensor's dims as ints.
func Shape(t *pb.TensorProto) []int {
	s := make([]int, len(t.Dims))
	for i, d := range t.Dims {
		s[i] = int(d)
	}
	return s
}

// storedCount is how many elements the tensor actually carries, from whichever field holds them.
func storedCount(t *pb.TensorProto) (int, error) {
	dt := pb.TensorProto_DataType(t.GetDataType())
	if t.RawData != nil {
		es := ElemSize(dt)
		if es == 0 {
			return 0, fmt.Errorf("raw_data for data type %v is not supported", dt)
		}
		if len(t.RawData)%es != 0 {
			return 0, fmt.Errorf("raw_data has %d bytes, not a multiple of %d (%v)", len(t.RawData), es, dt)
		}
		return len(t.RawData) / es, nil
	}
	switch dt {
	case pb.TensorProto_FLOAT:
		return len(t.FloatData), nil
	case pb.TensorProto_DOUBLE:
		return len(t.DoubleData), nil
	case pb.TensorProto_INT64:
		return len(t.Int64Data), nil
	case pb.TensorProto_UINT64, pb.TensorProto_UINT32:
		return len(t.Uint64Data), nil
	case pb.TensorProto_STRING:
		return len(t.StringData), nil
	case pb.TensorProto_INT32, pb.TensorProto_INT16, pb.TensorProto_INT8, pb.TensorProto_UINT16,
		pb.TensorProto_UINT8, pb.TensorProto_BOOL, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
		return len(t.Int32Data), nil
	}
	return 0, fmt.Errorf("data type %d is not supported", t.GetDataType())
}

// checkTensor verifies that a tensor's stored data agrees with its shape.
func checkTensor(t *pb.TensorProto) error {
	if t.GetDataLocation() == pb.TensorProto_EXTERNAL || len(t.ExternalData) > 0 {
		return formatErr("", "initializer %q keeps its data in an external file, which ssl4dp does not read; re-save with onnx.save(model, path, save_as_external_data=False)", t.GetName())
	}
	want, err := NumElements(t.Dims)
	if err != nil {
		return formatErr("", "tensor %q: %v", t.GetName(), err)
	}
	got, err := storedCount(t)
	if err != nil {
		return formatErr("", "tensor %q: %v", t.GetName(), err)
	}
	if got != want {
		return formatErr("", "tensor %q: shape %v needs %d elements but the file holds %d", t.GetName(), t.Dims, want, got)
	}
	return nil
}

// CheckTensor is checkTensor for callers outside the package (e.g. test-data loaders).
func CheckTensor(t *pb.TensorProto) error { return checkTensor(t) }

// Floats returns a floating-point tensor's values as float32 (FLOAT, DOUBLE, FLOAT16, BFLOAT16).
func Floats(t *pb.TensorProto) ([]float32, error) {
	if t == nil {
		return nil, fmt.Errorf("onnx: nil tensor")
	}
	if err := checkTensor(t); err != nil {
		return nil, err
	}
	n, _ := NumElements(t.Dims)
	out := make([]float32, n)
	raw := t.RawData
	switch dt := pb.TensorProto_DataType(t.GetDataType()); dt {
	case pb.TensorProto_FLOAT:
		if raw != nil {
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		} else {
			copy(out, t.FloatData)
		}
	case pb.TensorProto_DOUBLE:
		for i := range out {
			if raw != nil {
				out[i] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:])))
			} else {
				out[i] = float32(t.DoubleData[i])
			}
		}
	case pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
		for i := range out {
			var h uint16
			if raw != nil {
				h = binary.LittleEndian.Uint16(raw[2*i:])
			} else {
				h = uint16(t.Int32Data[i])
			}
			if dt == pb.TensorProto_BFLOAT16 {
				out[i] = math.Float32frombits(uint32(h) << 16)
			} else {
				out[i] = halfToFloat(h)
			}
		}
	default:
		return nil, fmt.Errorf("onnx: tensor %q has type %v, want a floating-point type", t.GetName(), dt)
	}
	return out, nil
}

// Int64s returns an integer or boolean tensor's values as int64.
func Int64s(t *pb.TensorProto) ([]int64, error) {
	if t == nil {
		return nil, fmt.Errorf("onnx: nil tensor")
	}
	if err := checkTensor(t); err != nil {
		return nil, err
	}
	n, _ := NumElements(t.Dims)
	out := make([]int64, n)
	raw := t.RawData
	dt := pb.TensorProto_DataType(t.GetDataType())
	for i := range out {
		switch dt {
		case pb.TensorProto_INT64:
			if raw != nil {
				out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			} else {
				out[i] = t.Int64Data[i]
			}
		case pb.TensorProto_UINT64:
			if raw != nil {
				out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			} else {
				out[i] = int64(t.Uint64Data[i])
			}
		case pb.TensorProto_INT32:
			if raw != nil {
				out[i] = int64(int32(binary.LittleEndian.Uint32(raw[4*i:])))
			} else {
				out[i] = int64(t.Int32Data[i])
			}
		case pb.TensorProto_UINT32:
			if raw != nil {
				out[i] = int64(binary.LittleEndian.Uint32(raw[4*i:]))
			} else {
				out[i] = int64(t.Uint64Data[i])
			}
		case pb.TensorProto_INT16:
			if raw != nil {
				out[i] = int64(int16(binary.LittleEndian.Uint16(raw[2*i:])))
			} else {
				out[i] = int64(t.Int32Data[i])
			}
		case pb.TensorProto_UINT16:
			if raw != nil {
				out[i] = int64(binary.LittleEndian.Uint16(raw[2*i:]))
			} else {
				out[i] = int64(t.Int32Data[i])
			}
		case pb.TensorProto_INT8:
			if raw != nil {
				out[i] = int64(int8(raw[i]))
			} else {
				out[i] = int64(t.Int32Data[i])
			}
		case pb.TensorProto_UINT8, pb.TensorProto_BOOL:
			if raw != nil {
				out[i] = int64(raw[i])
			} else {
				out[i] = int64(t.Int32Data[i])
			}
		default:
			return nil, fmt.Errorf("onnx: tensor %q has type %v, want an integer type", t.GetName(), dt)
		}
	}
	return out, nil
}

func dims64(shape []int) []int64 {
	d := make([]int64, len(shape))
	for i, s := range shape {
		d[i] = int64(s)
	}
	return d
}

func checkLen(name string, shape []int, n int) {
	want, err := NumElements(dims64(shape))
	if err != nil || want != n {
		// A programming error in the caller, not bad user input.
		panic(fmt.Sprintf("onnx: tensor %q: shape %v does not hold %d values", name, shape, n))
	}
}

// FromFloats builds a FLOAT tensor stored as raw_data. A nil or empty shape makes a scalar.
func FromFloats(name string, shape []int, data []float32) *pb.TensorProto {
	checkLen(name, shape, len(data))
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	return newTensor(name, shape, pb.TensorProto_FLOAT, raw)
}

// FromInt64s builds an INT64 tensor stored as raw_data.
func FromInt64s(name string, shape []int, data []int64) *pb.TensorProto {
	checkLen(name, shape, len(data))
	raw := make([]byte, 8*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(v))
	}
	return newTensor(name, shape, pb.TensorProto_INT64, raw)
}

// FromInt32s builds an INT32 tensor stored as raw_data.
func FromInt32s(name string, shape []int, data []int32) *pb.TensorProto {
	checkLen(name, shape, len(data))
	raw := make([]byte, 4*len(data))
	for i, v := range data {
		binary.LittleEndian.PutUint32(raw[4*i:], uint32(v))
	}
	return newTensor(name, shape, pb.TensorProto_INT32, raw)
}

// FromUint8s builds a UINT8 tensor stored as raw_data.
func FromUint8s(name string, shape []int, data []uint8) *pb.TensorProto {
	checkLen(name, shape, len(data))
	return newTensor(name, shape, pb.TensorProto_UINT8, append([]byte(nil), data...))
}

func newTensor(name string, shape []int, dt pb.TensorProto_DataType, raw []byte) *pb.TensorProto {
	t := &pb.TensorProto{Dims: dims64(shape), DataType: ptr(int32(dt)), RawData: raw}
	if name != "" {
		t.Name = ptr(name)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

// halfToFloat converts an IEEE 754 binary16 value.
func halfToFloat(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal
		f := float32(mant) / 1024 / 16384
		if sign != 0 {
			f = -f
		}
		return f
	case exp == 31:
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	}
	return math.Float32frombits(sign | (exp+112)<<23 | mant<<13)
}
