package importer

import (
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// foldConstant: Constant's value comes from exactly one attribute (value; value_float(s)
// and value_int(s) from opset 12).
func foldConstant(c *nodeCtx, _ []value) ([]value, error) {
	for _, a := range c.n.Attribute {
		switch a.GetName() {
		case "value":
			k, err := konstFromTensor(a.GetT())
			if err != nil {
				return nil, c.errf("value: %v", err)
			}
			return []value{konstValue(k)}, nil
		case "value_float":
			return []value{konstValue(&konst{dt: pb.TensorProto_FLOAT, f: []float64{float64(a.GetF())}})}, nil
		case "value_floats":
			f := make([]float64, len(a.GetFloats()))
			for j, v := range a.GetFloats() {
				f[j] = float64(v)
			}
			return []value{konstValue(&konst{dt: pb.TensorProto_FLOAT, shape: []int{len(f)}, f: f})}, nil
		case "value_int":
			return []value{konstValue(int64Konst(nil, a.GetI()))}, nil
		case "value_ints":
			return []value{konstValue(int64Konst([]int{len(a.GetInts())}, append([]int64{}, a.GetInts()...)...))}, nil
		case "sparse_value", "value_string", "value_strings":
			return nil, c.unsupported("attribute "+a.GetName(), "only dense numeric constants are supported")
		}
	}
	if onnx.Attr(c.n, "value") == nil {
		return nil, c.errf("Constant has no value attribute")
	}
	return nil, nil
}
