package ort

import (
	"fmt"
	"strings"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Tensor is a dense tensor in row-major order. Data is one of []float32, []float64, []int64,
// []int32, []uint8 or []bool and holds exactly the product of Shape elements; a scalar has
// an empty Shape and one element.
type Tensor struct {
	Shape []int64
	Data  any
}

// ValueInfo describes one model input or output as the model declares it. Shape has -1 for
// a dynamic dimension and is nil when the model declares no shape at all (unknown rank).
// Type is the Go element type Tensor.Data carries for it ("float32", "int64", …), or ONNX's
// name for a type Tensor cannot carry ("float16", "string", …).
type ValueInfo struct {
	Name  string
	Shape []int64
	Type  string
}

// typeNames maps the ONNX element types Tensor can carry to their Go names.
var typeNames = map[pb.TensorProto_DataType]string{
	pb.TensorProto_FLOAT:  "float32",
	pb.TensorProto_DOUBLE: "float64",
	pb.TensorProto_INT64:  "int64",
	pb.TensorProto_INT32:  "int32",
	pb.TensorProto_UINT8:  "uint8",
	pb.TensorProto_BOOL:   "bool",
}

func typeName(dt pb.TensorProto_DataType) string {
	if n, ok := typeNames[dt]; ok {
		return n
	}
	return strings.ToLower(dt.String())
}

// dataInfo returns the Go element type name and length of a Tensor's Data.
func dataInfo(data any) (string, int, error) {
	switch d := data.(type) {
	case []float32:
		return "float32", len(d), nil
	case []float64:
		return "float64", len(d), nil
	case []int64:
		return "int64", len(d), nil
	case []int32:
		return "int32", len(d), nil
	case []uint8:
		return "uint8", len(d), nil
	case []bool:
		return "bool", len(d), nil
	}
	return "", 0, fmt.Errorf("data is %T; want []float32, []float64, []int64, []int32, []uint8 or []bool", data)
}

// numElements is the product of shape, with an error for a negative dimension.
func numElements(shape []int64) (int, error) {
	n := 1
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %v has a negative dimension", shape)
		}
		n *= int(d)
	}
	return n, nil
}

// check reports whether t can be fed to the input described by want: same element type,
// same rank, and equal sizes wherever the model fixes them.
func (t Tensor) check(want ValueInfo) error {
	typ, n, err := dataInfo(t.Data)
	if err != nil {
		return fmt.Errorf("input %q: %w", want.Name, err)
	}
	if typ != want.Type {
		return fmt.Errorf("input %q: got %s data, want %s", want.Name, typ, want.Type)
	}
	size, err := numElements(t.Shape)
	if err != nil {
		return fmt.Errorf("input %q: %w", want.Name, err)
	}
	if n != size {
		return fmt.Errorf("input %q: shape %v needs %d elements, data has %d", want.Name, t.Shape, size, n)
	}
	if want.Shape == nil {
		return nil
	}
	if len(t.Shape) != len(want.Shape) {
		return fmt.Errorf("input %q: got shape %v (rank %d), want %s (rank %d)", want.Name, t.Shape, len(t.Shape), ShapeString(want.Shape), len(want.Shape))
	}
	for i, d := range want.Shape {
		if d >= 0 && t.Shape[i] != d {
			return fmt.Errorf("input %q: got shape %v, want %s (dimension %d)", want.Name, t.Shape, ShapeString(want.Shape), i)
		}
	}
	return nil
}

// ShapeString writes a declared shape with "?" for dynamic dimensions: [? 3 224 224].
func ShapeString(s []int64) string {
	if s == nil {
		return "(unknown rank)"
	}
	parts := make([]string, len(s))
	for i, d := range s {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = fmt.Sprint(d)
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// valueInfo reads a graph input or output's declared name, shape and type.
func valueInfo(v *pb.ValueInfoProto) ValueInfo {
	tt := v.GetType().GetTensorType()
	vi := ValueInfo{Name: v.GetName(), Type: typeName(pb.TensorProto_DataType(tt.GetElemType()))}
	if tt == nil {
		vi.Type = "non-tensor"
	}
	if shape := tt.GetShape(); shape != nil {
		vi.Shape = make([]int64, len(shape.Dim))
		for i, d := range shape.Dim {
			// A dimension is fixed only when dim_value is set; dim_param or nothing is dynamic.
			if _, fixed := d.Value.(*pb.TensorShapeProto_Dimension_DimValue); fixed {
				vi.Shape[i] = d.GetDimValue()
			} else {
				vi.Shape[i] = -1
			}
		}
	}
	return vi
}
