package nodetest

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Decode returns a tensor's shape and values in their own Go type: []float32, []float64,
// []int64, []int32, []uint8 or []bool. Unlike onnx.Floats it never narrows a DOUBLE to
// float32, so double tests are compared in double precision.
func Decode(t *pb.TensorProto) (shape []int64, data any, err error) {
	if err := onnx.CheckTensor(t); err != nil {
		return nil, nil, err
	}
	n, err := onnx.NumElements(t.Dims)
	if err != nil {
		return nil, nil, fmt.Errorf("nodetest: tensor %q: %v", t.GetName(), err)
	}
	shape = append([]int64{}, t.Dims...)
	raw := t.RawData
	switch dt := pb.TensorProto_DataType(t.GetDataType()); dt {
	case pb.TensorProto_FLOAT:
		out := make([]float32, n)
		if raw != nil {
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		} else {
			copy(out, t.FloatData)
		}
		return shape, out, nil
	case pb.TensorProto_DOUBLE:
		out := make([]float64, n)
		if raw != nil {
			for i := range out {
				out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		} else {
			copy(out, t.DoubleData)
		}
		return shape, out, nil
	case pb.TensorProto_INT64:
		out := make([]int64, n)
		if raw != nil {
			for i := range out {
				out[i] = int64(binary.LittleEndian.Uint64(raw[8*i:]))
			}
		} else {
			copy(out, t.Int64Data)
		}
		return shape, out, nil
	case pb.TensorProto_INT32:
		out := make([]int32, n)
		if raw != nil {
			for i := range out {
				out[i] = int32(binary.LittleEndian.Uint32(raw[4*i:]))
			}
		} else {
			copy(out, t.Int32Data)
		}
		return shape, out, nil
	case pb.TensorProto_UINT8:
		out := make([]uint8, n)
		for i := range out {
			if raw != nil {
				out[i] = raw[i]
			} else {
				out[i] = uint8(t.Int32Data[i]) // int32_data carries small types, one per value
			}
		}
		return shape, out, nil
	case pb.TensorProto_BOOL:
		out := make([]bool, n)
		for i := range out {
			if raw != nil {
				out[i] = raw[i] != 0
			} else {
				out[i] = t.Int32Data[i] != 0
			}
		}
		return shape, out, nil
	default:
		return nil, nil, fmt.Errorf("nodetest: tensor %q has type %v; the harness decodes FLOAT, DOUBLE, INT64, INT32, UINT8 and BOOL", t.GetName(), dt)
	}
}
