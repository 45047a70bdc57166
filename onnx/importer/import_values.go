package importer

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// The values an import starts from: initializers (parameters become nodes, the rest
// constants) and graph inputs (given nodes, or new ones of a fixed shape).

// addInitializers makes a node for every Param and a konst for every Buffer and Constant.
func (m *Model) addInitializers(gp *pb.GraphProto, o Options) error {
	roles := onnx.Roles(gp)
	for _, t := range gp.Initializer {
		name := t.GetName()
		if roles[name] != onnx.Param || !isFloatType(pb.TensorProto_DataType(t.GetDataType())) {
			k, err := konstFromTensor(t)
			if err != nil {
				return &UnsupportedError{What: fmt.Sprintf("initializer %q: %v", name, err), Hint: "only float, integer and bool tensors are supported"}
			}
			m.values[name] = konstValue(k)
			continue
		}
		full := m.prefix + name
		if len(m.Graph.ByName(full)) > 0 {
			return errorf("parameter %q: the graph already has a node named %q; give this import a different Options.Prefix", name, full)
		}
		v, err := m.paramValue(t)
		if err != nil {
			return errorf("initializer %q: %v", name, err)
		}
		shape := v.Shape()
		n := G.NewTensor(m.Graph, m.dtype, len(shape), G.WithShape(shape...), G.WithValue(v), G.WithName(full))
		m.params = append(m.params, Param{Name: name, Node: n, Frozen: m.frozen(name, o), Shape: onnx.Shape(t)})
		m.values[name] = nodeValue(n)
	}
	return nil
}

// paramValue decodes a float initializer straight into a tensor of the model's dtype (one
// copy: large models are hundreds of megabytes). A scalar becomes shape [1].
func (m *Model) paramValue(t *pb.TensorProto) (*tensor.Dense, error) {
	shape := onnx.Shape(t)
	if len(shape) == 0 {
		shape = []int{1}
	}
	if pb.TensorProto_DataType(t.GetDataType()) == pb.TensorProto_DOUBLE {
		d, err := float64s(t)
		if err != nil {
			return nil, err
		}
		return m.denseOf(d, shape), nil
	}
	f, err := onnx.Floats(t)
	if err != nil {
		return nil, err
	}
	if m.dtype == tensor.Float32 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(f)), nil
	}
	d := make([]float64, len(f))
	for i, x := range f {
		d[i] = float64(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d)), nil
}

// addInputs binds every real graph input to a given node or a new input node.
func (m *Model) addInputs(gp *pb.GraphProto, o Options) error {
	known := map[string]bool{}
	for _, in := range onnx.GraphInputs(gp) {
		name := in.GetName()
		known[name] = true
		m.inputs = append(m.inputs, name)
		dims, et := onnx.Dims(in)
		if et != pb.TensorProto_UNDEFINED && !isFloatType(et) {
			return errorf("input %q has type %v; only float inputs are supported", name, et)
		}
		if n, ok := o.InputNodes[name]; ok {
			if n.Dtype() != m.dtype {
				return optionsErrorf("input %q: the given node has type %v, want %v (Options.Dtype)", name, n.Dtype(), m.dtype)
			}
			if err := checkDims(name, dims, n.Shape()); err != nil {
				return err
			}
			m.values[name] = nodeValue(n)
			continue
		}
		shape, err := inputShape(name, dims, o.InputShapes[name])
		if err != nil {
			return err
		}
		if numel(shape) == 0 && len(shape) > 0 {
			return &UnsupportedError{What: fmt.Sprintf("input %q with shape %v (no elements)", name, shape), Hint: "Gorgonia has no empty tensors"}
		}
		full := m.prefix + name
		if len(m.Graph.ByName(full)) > 0 {
			return errorf("input %q: the graph already has a node named %q; give this import a different Options.Prefix", name, full)
		}
		var n *G.Node
		if len(shape) == 0 {
			n = G.NewScalar(m.Graph, m.dtype, G.WithName(full))
		} else {
			n = G.NewTensor(m.Graph, m.dtype, len(shape), G.WithShape(shape...), G.WithName(full))
		}
		m.values[name] = nodeValue(n)
	}
	for _, name := range sortedKeys(o.InputShapes) {
		if !known[name] {
			return optionsErrorf("Options.InputShapes names %q, which is not a graph input (inputs: %v)", name, m.inputs)
		}
	}
	for _, name := range sortedKeys(o.InputNodes) {
		if !known[name] {
			return optionsErrorf("Options.InputNodes names %q, which is not a graph input (inputs: %v)", name, m.inputs)
		}
	}
	return nil
}

// inputShape combines a declared shape with the caller's.
func inputShape(name string, dims []onnx.Dim, given []int) ([]int, error) {
	if given != nil {
		if err := checkDims(name, dims, given); err != nil {
			return nil, err
		}
		return append([]int{}, given...), nil
	}
	if dims == nil {
		return nil, optionsErrorf("input %q declares no shape; give it in Options.InputShapes", name)
	}
	out := make([]int, len(dims))
	for d, dim := range dims {
		if dim.Param != "" || dim.Value <= 0 {
			return nil, optionsErrorf("input %q has shape %v with symbolic dimension %d; fix it in Options.InputShapes (Gorgonia graphs are static)", name, dims, d)
		}
		out[d] = int(dim.Value)
	}
	return out, nil
}

// checkDims verifies a concrete shape against a declared one (symbolic dims match anything).
func checkDims(name string, dims []onnx.Dim, got []int) error {
	if dims == nil {
		return nil
	}
	if len(dims) != len(got) {
		return optionsErrorf("input %q: shape %v has rank %d, the model declares %v (rank %d)", name, got, len(got), dims, len(dims))
	}
	for d, dim := range dims {
		if dim.Param == "" && dim.Value > 0 && int(dim.Value) != got[d] {
			return optionsErrorf("input %q: shape %v, the model declares %v (dimension %d is fixed at %d)", name, got, dims, d, dim.Value)
		}
	}
	return nil
}
