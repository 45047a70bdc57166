package importer

import (
	"fmt"
	"sort"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

// Model is an imported ONNX graph: its Gorgonia nodes, parameters, BatchNorm buffers and
// mode. Build the loss on its outputs, take gradients of Learnables, run a TapeMachine, and
// call WriteBack to get the trained ONNX model.
type Model struct {
	Graph *G.ExprGraph
	Phase *ops.Phase

	proto    *pb.ModelProto
	opset    int64
	prefix   string
	dtype    tensor.Dtype
	values   map[string]value
	inputs   []string
	outputs  []string
	params   []Param
	bns      []BatchNorm
	warnings []string
	lazy     map[string]*G.Node // nodes made on request for folded constants
	k2n      map[*konst]*G.Node // nodes made for constants used by run-time ops
	soleRelu map[string]bool    // tensors read only by a Relu (soleReluInputs)
}

// Param is one trainable initializer.
type Param struct {
	Name   string  // the initializer's ONNX name (what WriteBack writes)
	Node   *G.Node // its Gorgonia node (named Prefix+Name)
	Frozen bool    // matched Options.Freeze: not in Learnables
	Shape  []int   // its shape in the model
}

// SetTraining switches BatchNorm (batch statistics and running-stat updates) and Dropout
// on (true) or to evaluation (false). The graph and machine stay as they are.
func (m *Model) SetTraining(on bool) { m.Phase.Training = on }

// Training reports the current mode.
func (m *Model) Training() bool { return m.Phase.Training }

// Opset is the model's default-domain opset.
func (m *Model) Opset() int64 { return m.opset }

// Dtype is the element type of the imported graph.
func (m *Model) Dtype() tensor.Dtype { return m.dtype }

// InputNames lists the graph inputs (not initializers) in model order.
func (m *Model) InputNames() []string { return append([]string{}, m.inputs...) }

// OutputNames lists the graph outputs in model order.
func (m *Model) OutputNames() []string { return append([]string{}, m.outputs...) }

// Input returns the node bound to a graph input (bind a value with G.Let).
func (m *Model) Input(name string) (*G.Node, error) {
	for _, in := range m.inputs {
		if in == name {
			return m.values[name].node, nil
		}
	}
	return nil, errorf("model has no input %q (inputs: %v)", name, m.inputs)
}

// Output returns a graph output's node.
func (m *Model) Output(name string) (*G.Node, error) {
	for _, out := range m.outputs {
		if out == name {
			return m.Tensor(name)
		}
	}
	return nil, errorf("model has no output %q (outputs: %v)", name, m.outputs)
}

// Outputs returns the graph outputs' nodes in model order.
func (m *Model) Outputs() (G.Nodes, error) {
	var ns G.Nodes
	for _, name := range m.outputs {
		n, err := m.Tensor(name)
		if err != nil {
			return nil, err
		}
		ns = append(ns, n)
	}
	return ns, nil
}

// Tensor returns the node of any tensor in the model by its ONNX name: an output, an
// intermediate value ("features"), an input or an initializer. A value folded at import
// time comes back as a node holding that constant.
func (m *Model) Tensor(name string) (*G.Node, error) {
	v, ok := m.values[name]
	switch {
	case !ok:
		return nil, errorf("model has no tensor %q", name)
	case v.unavailable != "":
		return nil, errorf("tensor %q is not computed: %s", name, v.unavailable)
	case v.reluFused:
		return nil, errorf("tensor %q is computed fused with the Relu that reads it (BatchNormalization + Relu as one op); ask for the Relu's output, or import with Options.NoFusion", name)
	case v.node != nil:
		return v.node, nil
	}
	if n, ok := m.lazy[name]; ok {
		return n, nil
	}
	if !v.k.isFloat() {
		return nil, errorf("tensor %q is an import-time %v constant %v; only float tensors become nodes", name, v.k.dt, v.k.shape)
	}
	n, err := m.konstNode(v.k, "tensor/"+name)
	if err != nil {
		return nil, err
	}
	m.lazy[name] = n
	return n, nil
}

// Params lists every trainable initializer, frozen or not, in the model's initializer order.
func (m *Model) Params() []Param { return append([]Param{}, m.params...) }

// Param returns one parameter by ONNX name.
func (m *Model) Param(name string) (Param, bool) {
	for _, p := range m.params {
		if p.Name == name {
			return p, true
		}
	}
	return Param{}, false
}

// Learnables returns the nodes to differentiate and update: the parameters that are not
// frozen, in Params order.
func (m *Model) Learnables() G.Nodes {
	var ns G.Nodes
	for _, p := range m.params {
		if !p.Frozen {
			ns = append(ns, p.Node)
		}
	}
	return ns
}

// BatchNorms lists the BatchNormalization nodes' running statistics in node order.
func (m *Model) BatchNorms() []BatchNorm { return append([]BatchNorm{}, m.bns...) }

// CopyValuesFrom copies every parameter and BatchNorm running statistic of src into m, two
// float32 imports of one model (a training graph into an evaluation graph, perhaps of
// another input size), matched by name.
func (m *Model) CopyValuesFrom(src *Model) error {
	params := map[string][]float32{}
	for _, p := range src.Params() {
		params[p.Name] = p.Node.Value().Data().([]float32)
	}
	for _, p := range m.Params() {
		v, ok := params[p.Name]
		d := p.Node.Value().Data().([]float32)
		if !ok || len(v) != len(d) {
			return fmt.Errorf("importer: parameter %q differs between the training and evaluation graphs", p.Name)
		}
		copy(d, v)
	}
	stats := map[string][2][]float32{}
	for _, bn := range src.BatchNorms() {
		stats[bn.Mean] = [2][]float32{bn.State.Mean.Data().([]float32), bn.State.Var.Data().([]float32)}
	}
	for _, bn := range m.BatchNorms() {
		s, ok := stats[bn.Mean]
		mean, vr := bn.State.Mean.Data().([]float32), bn.State.Var.Data().([]float32)
		if !ok || len(s[0]) != len(mean) || len(s[1]) != len(vr) {
			return fmt.Errorf("importer: BatchNorm %q differs between the training and evaluation graphs", bn.Node)
		}
		copy(mean, s[0])
		copy(vr, s[1])
	}
	return nil
}

// Warnings are things the import noticed that do not stop it (a model whose BatchNorm was
// folded into its convolutions, tied parameters trained as one).
func (m *Model) Warnings() []string { return append([]string{}, m.warnings...) }

// konstNode makes (once per constant) a node holding a float constant for a run-time op.
// It is an input node that is never in Learnables: Gorgonia's constant nodes are merged by
// name, and their default name is their printed value, which can collide.
func (m *Model) konstNode(k *konst, what string) (*G.Node, error) {
	if n, ok := m.k2n[k]; ok {
		return n, nil
	}
	if !k.isFloat() {
		return nil, errorf("%s: a %v constant cannot feed a float op", what, k.dt)
	}
	shape := k.shape
	if len(shape) == 0 {
		shape = []int{1} // rank-0 broadcasts like [1]; Gorgonia scalars do not broadcast
	}
	t := m.denseOf(k.f, shape)
	name := fmt.Sprintf("%sconst/%d/%s", m.prefix, len(m.k2n), what)
	n := G.NewTensor(m.Graph, m.dtype, len(shape), G.WithShape(shape...), G.WithValue(t), G.WithName(name))
	m.k2n[k] = n
	return n, nil
}

// denseOf builds a tensor of the model's dtype from float64 values.
func (m *Model) denseOf(f []float64, shape []int) *tensor.Dense {
	if m.dtype == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64{}, f...)))
	}
	d := make([]float32, len(f))
	for j, v := range f {
		d[j] = float32(v)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

// sortedKeys is used for deterministic messages.
func sortedKeys[V any](mp map[string]V) []string {
	ks := make([]string, 0, len(mp))
	for k := range mp {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
