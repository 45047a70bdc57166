package onnx

import (
	"strconv"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Initializer returns the initializer called name, or nil.
func Initializer(g *pb.GraphProto, name string) *pb.TensorProto {
	for _, t := range g.GetInitializer() {
		if t.GetName() == name {
			return t
		}
	}
	return nil
}

// Initializers indexes a graph's initializers by name.
func Initializers(g *pb.GraphProto) map[string]*pb.TensorProto {
	m := make(map[string]*pb.TensorProto, len(g.GetInitializer()))
	for _, t := range g.GetInitializer() {
		m[t.GetName()] = t
	}
	return m
}

// SetInitializer replaces the initializer of the same name, or appends t.
func SetInitializer(g *pb.GraphProto, t *pb.TensorProto) {
	for i, old := range g.Initializer {
		if old.GetName() == t.GetName() {
			g.Initializer[i] = t
			return
		}
	}
	g.Initializer = append(g.Initializer, t)
}

// Dim is one dimension of a value's shape: a fixed size, or a symbolic name such as "N".
type Dim struct {
	Value int64
	Param string // non-empty for a symbolic dimension
}

func (d Dim) String() string {
	if d.Param != "" {
		return d.Param
	}
	if d.Value <= 0 {
		return "?"
	}
	return strconv.FormatInt(d.Value, 10)
}

// ValueInfo builds a tensor ValueInfoProto. Use Dim{Param: "N"} for dynamic axes.
func ValueInfo(name string, elem pb.TensorProto_DataType, dims ...Dim) *pb.ValueInfoProto {
	shape := &pb.TensorShapeProto{}
	for _, d := range dims {
		if d.Param != "" {
			shape.Dim = append(shape.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimParam{DimParam: d.Param}})
		} else {
			shape.Dim = append(shape.Dim, &pb.TensorShapeProto_Dimension{Value: &pb.TensorShapeProto_Dimension_DimValue{DimValue: d.Value}})
		}
	}
	return &pb.ValueInfoProto{
		Name: ptr(name),
		Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: ptr(int32(elem)), Shape: shape}}},
	}
}

// Dims returns a value's declared shape (nil if it has none) and element type.
func Dims(v *pb.ValueInfoProto) ([]Dim, pb.TensorProto_DataType) {
	tt := v.GetType().GetTensorType()
	if tt == nil {
		return nil, pb.TensorProto_UNDEFINED
	}
	var ds []Dim
	for _, d := range tt.GetShape().GetDim() {
		ds = append(ds, Dim{Value: d.GetDimValue(), Param: d.GetDimParam()})
	}
	return ds, pb.TensorProto_DataType(tt.GetElemType())
}

// GraphInputs returns the graph inputs that are not initializers (the real inputs; IR < 4
// models also list every initializer as an input).
func GraphInputs(g *pb.GraphProto) []*pb.ValueInfoProto {
	inits := Initializers(g)
	var out []*pb.ValueInfoProto
	for _, in := range g.GetInput() {
		if _, ok := inits[in.GetName()]; !ok {
			out = append(out, in)
		}
	}
	return out
}
