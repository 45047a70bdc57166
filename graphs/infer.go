package graphs

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Analysis is the result of static shape inference at one concrete input size.
type Analysis struct {
	Shapes map[string][]int // every value's shape
	// MACs counts the multiply-accumulates of Conv, Gemm and MatMul nodes (the convention
	// of torchvision's model table, whose "GFLOPS" column is these MACs in billions).
	MACs int64
}

// value is what inference knows about a tensor: its shape, whether it holds integers (or
// booleans), and for small integer tensors (shape arithmetic) the values themselves.
type value struct {
	shape []int
	isInt bool
	vals  []int64 // nil when unknown
}

// Analyze infers the shape of every value of g (whose nodes must be in topological order,
// as ONNX requires) for the given input shapes. It evaluates the integer shape arithmetic
// (Shape, Slice, Gather, Range, …) so that Resize sizes and Reshape targets are known, and
// checks channel counts and spatial sizes on the way: a mismatch is an error naming the
// node, with what it got and what it wanted.
func Analyze(g *pb.GraphProto, inputs map[string][]int) (*Analysis, error) {
	env := map[string]*value{}
	for _, t := range g.GetInitializer() {
		v := &value{shape: onnx.Shape(t)}
		switch pb.TensorProto_DataType(t.GetDataType()) {
		case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
		default:
			vals, err := onnx.Int64s(t)
			if err != nil {
				return nil, fmt.Errorf("graphs: initializer %q: %w", t.GetName(), err)
			}
			v.isInt, v.vals = true, vals
		}
		env[t.GetName()] = v
	}
	for _, in := range onnx.GraphInputs(g) {
		s, ok := inputs[in.GetName()]
		if !ok {
			return nil, fmt.Errorf("graphs: analyze: no shape given for graph input %q", in.GetName())
		}
		if _, dt := onnx.Dims(in); dt != pb.TensorProto_FLOAT {
			return nil, fmt.Errorf("graphs: analyze: graph input %q has type %v, want FLOAT", in.GetName(), dt)
		}
		env[in.GetName()] = &value{shape: s}
	}
	a := &Analysis{Shapes: map[string][]int{}}
	for _, n := range g.GetNode() {
		ins := make([]*value, len(n.Input))
		for i, name := range n.Input {
			if name == "" {
				continue
			}
			v, ok := env[name]
			if !ok {
				return nil, fmt.Errorf("graphs: node %s: input %q is not produced before it", onnx.NodeString(n), name)
			}
			ins[i] = v
		}
		rule, ok := rules[n.GetOpType()]
		if !ok {
			return nil, fmt.Errorf("graphs: node %s: no shape rule for op %s", onnx.NodeString(n), n.GetOpType())
		}
		out, macs, err := rule(n, ins)
		if err != nil {
			return nil, fmt.Errorf("graphs: node %s: %w", onnx.NodeString(n), err)
		}
		for _, d := range out.shape {
			if d < 0 {
				return nil, fmt.Errorf("graphs: node %s: output shape %v has a negative dimension", onnx.NodeString(n), out.shape)
			}
		}
		a.MACs += macs
		env[n.Output[0]] = out
	}
	for name, v := range env {
		a.Shapes[name] = v.shape
	}
	for _, o := range g.GetOutput() {
		if _, ok := env[o.GetName()]; !ok {
			return nil, fmt.Errorf("graphs: graph output %q is never produced", o.GetName())
		}
	}
	return a, nil
}

// Cost is what `ssl4dp graphs` reports about a model.
type Cost struct {
	Params  int64            // trainable parameters (onnx.Summarize)
	Buffers int64            // BatchNorm running statistics
	MACs    int64            // multiply-accumulates at the given size
	Outputs map[string][]int // graph output shapes at that size
}

// GFLOPs is 2·MACs/10⁹ (one multiply and one add per MAC).
func (c Cost) GFLOPs() float64 { return 2 * float64(c.MACs) / 1e9 }

// Measure counts m's parameters and its cost for an n×3×h×w "input".
func Measure(m *pb.ModelProto, n, h, w int) (Cost, error) {
	if n <= 0 || h <= 0 || w <= 0 {
		return Cost{}, fmt.Errorf("graphs: measure: input size %d×3×%d×%d; want positive sizes", n, h, w)
	}
	a, err := Analyze(m.GetGraph(), map[string][]int{Input: {n, 3, h, w}})
	if err != nil {
		return Cost{}, err
	}
	s := onnx.Summarize(m)
	c := Cost{Params: s.Params, Buffers: s.Buffers, MACs: a.MACs, Outputs: map[string][]int{}}
	for _, o := range m.GetGraph().GetOutput() {
		c.Outputs[o.GetName()] = a.Shapes[o.GetName()]
	}
	return c, nil
}
