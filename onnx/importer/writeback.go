package importer

import (
	"encoding/binary"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// WriteBack returns a copy of the imported model with every parameter's current value and
// every BatchNorm's running statistics stored in the initializers of the same names, types
// and shapes. Nothing else changes, so the result is the same network, trained: a valid
// ONNX model that onnxruntime runs and that imports again.
func (m *Model) WriteBack() (*pb.ModelProto, error) {
	out := proto.Clone(m.proto).(*pb.ModelProto)
	inits := onnx.Initializers(out.Graph)
	for _, p := range m.params {
		v := p.Node.Value()
		if v == nil {
			return nil, errorf("WriteBack: parameter %q has no value", p.Name)
		}
		if err := store(out.Graph, inits[p.Name], v.Data()); err != nil {
			return nil, err
		}
	}
	for _, bn := range m.bns {
		if err := store(out.Graph, inits[bn.Mean], bn.State.Mean.Data()); err != nil {
			return nil, err
		}
		if err := store(out.Graph, inits[bn.Var], bn.State.Var.Data()); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// store replaces initializer old with data (a []float32 or []float64 of the same length),
// keeping its name, shape and element type.
func store(g *pb.GraphProto, old *pb.TensorProto, data any) error {
	n, _ := onnx.NumElements(old.Dims)
	var f []float64
	switch d := data.(type) {
	case []float32:
		f = make([]float64, len(d))
		for i, v := range d {
			f[i] = float64(v)
		}
	case []float64:
		f = d
	default:
		return errorf("WriteBack: initializer %q: value of type %T", old.GetName(), data)
	}
	if len(f) != n {
		return errorf("WriteBack: initializer %q has %d elements, the trained value %d", old.GetName(), n, len(f))
	}
	var t *pb.TensorProto
	switch dt := pb.TensorProto_DataType(old.GetDataType()); dt {
	case pb.TensorProto_FLOAT:
		v := make([]float32, n)
		for i, x := range f {
			v[i] = float32(x)
		}
		t = onnx.FromFloats(old.GetName(), onnx.Shape(old), v)
	case pb.TensorProto_DOUBLE:
		raw := make([]byte, 8*n)
		for i, x := range f {
			binary.LittleEndian.PutUint64(raw[8*i:], math.Float64bits(x))
		}
		t = &pb.TensorProto{Name: proto.String(old.GetName()), Dims: append([]int64{}, old.Dims...), DataType: proto.Int32(int32(dt)), RawData: raw}
	default:
		return errorf("WriteBack: initializer %q has type %v; only float and double initializers can be written back", old.GetName(), dt)
	}
	onnx.SetInitializer(g, t)
	return nil
}

// Float64s returns a node value's data (float32 or float64, tensor or scalar) as a new
// []float64, for comparisons against references; nil for other types.
func Float64s(t interface{ Data() any }) []float64 {
	switch d := t.Data().(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64{}, d...)
	case float32:
		return []float64{float64(d)}
	case float64:
		return []float64{d}
	}
	return nil
}
