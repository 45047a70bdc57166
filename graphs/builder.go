package graphs

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Opset is the default-domain opset of every graph this package writes (Debian's onnx 1.12
// checker, onnxruntime and onnx-go all read it; PyTorch's exporter writes it by default).
const Opset = 13

// Tensor is a value in a graph under construction, known by its name.
type Tensor struct {
	Name string
}

// Builder assembles one ONNX graph: named nodes, seeded initializers and constants.
//
// Errors are sticky, as in image/png's encoder: after the first failure every method does
// nothing and returns a zero Tensor, and Graph or Err reports that first error. Architecture
// code therefore reads as a straight list of layers, with one error check at the end.
type Builder struct {
	seed   int64
	err    error
	nodes  []*pb.NodeProto
	inits  []*pb.TensorProto
	inputs []*pb.ValueInfoProto
	output []*pb.ValueInfoProto
	names  map[string]bool   // every value, node and initializer name in use
	consts map[string]Tensor // integer constants by content, shared
	shapes map[string]Tensor // Shape(x) nodes by x, shared
}

// NewBuilder starts an empty graph whose parameters are drawn from seed (see Filler).
func NewBuilder(seed int64) *Builder {
	return &Builder{seed: seed, names: map[string]bool{}, consts: map[string]Tensor{}, shapes: map[string]Tensor{}}
}

// Err returns the first error, or nil.
func (b *Builder) Err() error { return b.err }

// Failf records an error unless one is already recorded. The message gets the "graphs: "
// prefix.
func (b *Builder) Failf(format string, args ...any) {
	if b.err == nil {
		b.err = fmt.Errorf("graphs: "+format, args...)
	}
}

// claim reserves a name, failing on a duplicate (an architecture bug: two layers named alike).
func (b *Builder) claim(name string) bool {
	if b.err != nil {
		return false
	}
	if name == "" {
		b.Failf("empty name")
		return false
	}
	if b.names[name] {
		b.Failf("name %q used twice", name)
		return false
	}
	b.names[name] = true
	return true
}

// Input declares a FLOAT graph input. Use onnx.Dim{Param: "N"} for dynamic axes.
func (b *Builder) Input(name string, dims ...onnx.Dim) Tensor {
	if !b.claim(name) {
		return Tensor{}
	}
	b.inputs = append(b.inputs, valueInfo(name, pb.TensorProto_FLOAT, dims))
	return Tensor{name}
}

// Output declares t a FLOAT graph output with the given (possibly partly unknown) dims:
// a Dim with neither Value nor Param is written as an unknown dimension.
func (b *Builder) Output(t Tensor, dims ...onnx.Dim) {
	if b.err != nil {
		return
	}
	if !b.names[t.Name] {
		b.Failf("output %q is not a value of the graph", t.Name)
		return
	}
	b.output = append(b.output, valueInfo(t.Name, pb.TensorProto_FLOAT, dims))
}

// Rename gives t a new name everywhere it is used, and returns the renamed tensor. Tensors
// held under the old name are stale afterwards.
func (b *Builder) Rename(t Tensor, name string) Tensor {
	if b.err != nil {
		return Tensor{}
	}
	if !b.names[t.Name] {
		b.Failf("rename: %q is not a value of the graph", t.Name)
		return Tensor{}
	}
	if !b.claim(name) {
		return Tensor{}
	}
	for _, n := range b.nodes {
		for i, in := range n.Input {
			if in == t.Name {
				n.Input[i] = name
			}
		}
		for i, out := range n.Output {
			if out == t.Name {
				n.Output[i] = name
			}
		}
	}
	for _, v := range append(b.inputs, b.output...) {
		if v.GetName() == t.Name {
			v.Name = &name
		}
	}
	delete(b.names, t.Name)
	if s, ok := b.shapes[t.Name]; ok {
		delete(b.shapes, t.Name)
		b.shapes[name] = s
	}
	return Tensor{name}
}

// Op appends a node of type op whose single output is called name (the node gets the same
// name). Inputs may include the zero Tensor for an omitted optional input.
func (b *Builder) Op(op, name string, inputs []Tensor, attrs ...*pb.AttributeProto) Tensor {
	if b.err != nil {
		return Tensor{}
	}
	ins := make([]string, len(inputs))
	for i, t := range inputs {
		if t.Name != "" && !b.names[t.Name] {
			b.Failf("node %q (%s): input %d %q is not a value of the graph", name, op, i, t.Name)
			return Tensor{}
		}
		ins[i] = t.Name
	}
	if !b.claim(name) {
		return Tensor{}
	}
	b.nodes = append(b.nodes, onnx.NewNode(op, name, ins, []string{name}, attrs...))
	return Tensor{name}
}

// Param adds a FLOAT initializer filled by f. Its values depend only on the builder's seed
// and the name, so an encoder gets the same initial weights whatever heads follow it.
func (b *Builder) Param(name string, shape []int, f Filler) Tensor {
	if !b.claim(name) {
		return Tensor{}
	}
	n := 1
	for _, d := range shape {
		if d <= 0 {
			b.Failf("initializer %q: shape %v has a dimension ≤ 0", name, shape)
			return Tensor{}
		}
		n *= d
	}
	b.inits = append(b.inits, onnx.FromFloats(name, shape, f.fill(b.seed, name, n)))
	return Tensor{name}
}

// Ints returns a shared INT64 1-D constant initializer holding vals (shape inputs, axes).
func (b *Builder) Ints(vals ...int64) Tensor { return b.intConst(vals, []int{len(vals)}) }

// Int returns a shared INT64 scalar constant initializer.
func (b *Builder) Int(v int64) Tensor { return b.intConst([]int64{v}, nil) }

func (b *Builder) intConst(vals []int64, shape []int) Tensor {
	if b.err != nil {
		return Tensor{}
	}
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = strconv.FormatInt(v, 10)
	}
	name := "const.int64(" + strings.Join(s, ",") + ")"
	if shape != nil {
		name = "const.int64[" + strings.Join(s, ",") + "]"
	}
	if t, ok := b.consts[name]; ok {
		return t
	}
	if !b.claim(name) {
		return Tensor{}
	}
	b.inits = append(b.inits, onnx.FromInt64s(name, shape, vals))
	b.consts[name] = Tensor{name}
	return Tensor{name}
}

// Const adds a FLOAT constant that is not a parameter: a Constant node, not an initializer,
// so that onnx.Roles (and every trainer that reads initializers) never trains it. Used for
// an affine-free BatchNorm's γ=1, β=0 and for fixed scales.
func (b *Builder) Const(name string, shape []int, vals []float32) Tensor {
	if b.err != nil {
		return Tensor{}
	}
	n := 1
	for _, d := range shape {
		n *= d
	}
	if n != len(vals) {
		b.Failf("constant %q: shape %v needs %d values, got %d", name, shape, n, len(vals))
		return Tensor{}
	}
	return b.Op("Constant", name, nil, onnx.TensorAttr("value", onnx.FromFloats("", shape, vals)))
}

// ShapeOf returns Shape(x), sharing one Shape node per tensor.
func (b *Builder) ShapeOf(x Tensor) Tensor {
	if t, ok := b.shapes[x.Name]; ok && b.err == nil {
		return t
	}
	t := b.Op("Shape", x.Name+".shape", []Tensor{x})
	if b.err == nil {
		b.shapes[x.Name] = t
	}
	return t
}

// Graph returns the finished graph, or the first error.
func (b *Builder) Graph(name string) (*pb.GraphProto, error) {
	if b.err != nil {
		return nil, b.err
	}
	if len(b.output) == 0 {
		return nil, fmt.Errorf("graphs: graph %q has no outputs", name)
	}
	return &pb.GraphProto{Name: &name, Node: b.nodes, Initializer: b.inits, Input: b.inputs, Output: b.output}, nil
}

// valueInfo is onnx.ValueInfo that also writes unknown dimensions (neither value nor name),
// which output spatial sizes need: they depend on the input size by a stride, so no symbol
// of the input describes them.
func valueInfo(name string, elem pb.TensorProto_DataType, dims []onnx.Dim) *pb.ValueInfoProto {
	v := onnx.ValueInfo(name, elem, dims...)
	shape := v.GetType().GetTensorType().GetShape()
	for i, d := range dims {
		if d.Param == "" && d.Value <= 0 {
			shape.Dim[i] = &pb.TensorShapeProto_Dimension{}
		}
	}
	return v
}
