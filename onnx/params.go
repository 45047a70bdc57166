package onnx

import (
	"sort"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Role says what an initializer is for in training.
type Role int

const (
	// Param is a trainable value: a weight, a bias, a BatchNorm scale or shift.
	Param Role = iota
	// Buffer is state updated by training but not by gradients: BatchNorm running statistics.
	Buffer
	// Constant is never trained: shapes, indices, Resize scales, Pad amounts.
	Constant
)

func (r Role) String() string {
	return [...]string{"param", "buffer", "constant"}[r]
}

// notTrainable lists (op, input index) pairs whose float inputs are configuration, not
// weights. Index -1 means every input after the first.
var notTrainable = map[string][]int{
	"Resize":             {1, 2, 3},
	"Upsample":           {1},
	"Pad":                {1, 2, 3},
	"Clip":               {1, 2},
	"ConstantOfShape":    {-1},
	"Reshape":            {1},
	"Slice":              {1, 2, 3, 4},
	"Expand":             {1},
	"Tile":               {1},
	"Dropout":            {1, 2},
	"ReduceMean":         {1},
	"ReduceSum":          {1},
	"Unsqueeze":          {1},
	"Squeeze":            {1},
	"BatchNormalization": {},
}

// Roles classifies every initializer of g. A float initializer is a Param unless it is a
// BatchNorm running statistic (Buffer) or only feeds configuration inputs such as Resize
// scales (Constant). Integer and boolean initializers are Constants.
func Roles(g *pb.GraphProto) map[string]Role {
	roles := make(map[string]Role, len(g.GetInitializer()))
	isFloat := map[string]bool{}
	for _, t := range g.GetInitializer() {
		switch pb.TensorProto_DataType(t.GetDataType()) {
		case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
			isFloat[t.GetName()] = true
		}
		roles[t.GetName()] = Constant
	}
	weightUse := map[string]bool{}
	for _, n := range g.GetNode() {
		for i, in := range n.Input {
			if !isFloat[in] {
				continue
			}
			if n.GetOpType() == "BatchNormalization" && (i == 3 || i == 4) {
				roles[in] = Buffer
				continue
			}
			if configInput(n.GetOpType(), i) {
				continue
			}
			weightUse[in] = true
		}
	}
	for name := range weightUse {
		if roles[name] != Buffer {
			roles[name] = Param
		}
	}
	return roles
}

func configInput(op string, i int) bool {
	for _, j := range notTrainable[op] {
		if j == i || (j == -1 && i > 0) {
			return true
		}
	}
	return false
}

// Tied returns the trainable initializers that feed more than one node, sorted. PyTorch's
// exporter merges initializers with identical values (e.g. every freshly initialised
// BatchNorm γ = 1) into one; trained as-is those layers would share one tensor.
func Tied(g *pb.GraphProto) []string {
	roles := Roles(g)
	uses := map[string]int{}
	for _, n := range g.GetNode() {
		seen := map[string]bool{}
		for _, in := range n.Input {
			if r, ok := roles[in]; ok && r == Param && !seen[in] {
				seen[in] = true
				uses[in]++
			}
		}
	}
	var out []string
	for name, k := range uses {
		if k > 1 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Summary describes a model for `ssl4dp inspect`.
type Summary struct {
	IRVersion    int64             `json:"ir_version"`
	Opsets       map[string]int64  `json:"opsets"`
	Producer     string            `json:"producer"`
	Inputs       []ValueSummary    `json:"inputs"`
	Outputs      []ValueSummary    `json:"outputs"`
	Ops          []OpCount         `json:"ops"`
	Nodes        int               `json:"nodes"`
	Params       int64             `json:"trainable_parameters"`
	ParamBytes   int64             `json:"trainable_bytes"`
	Buffers      int64             `json:"buffer_values"`
	Initializers int               `json:"initializers"`
	Tied         []string          `json:"tied_initializers,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
}

// ValueSummary is one graph input or output.
type ValueSummary struct {
	Name  string   `json:"name"`
	Type  string   `json:"type"`
	Shape []string `json:"shape"`
}

// OpCount is one line of the op histogram.
type OpCount struct {
	Op    string `json:"op"`
	Count int    `json:"count"`
}

// Summarize computes a model's Summary.
func Summarize(m *pb.ModelProto) Summary {
	g := m.GetGraph()
	s := Summary{IRVersion: m.GetIrVersion(), Opsets: map[string]int64{}, Producer: m.GetProducerName() + " " + m.GetProducerVersion(), Nodes: len(g.GetNode()), Initializers: len(g.GetInitializer())}
	for _, o := range m.OpsetImport {
		d := o.GetDomain()
		if d == "" {
			d = "ai.onnx"
		}
		s.Opsets[d] = o.GetVersion()
	}
	vs := func(v *pb.ValueInfoProto) ValueSummary {
		dims, dt := Dims(v)
		out := ValueSummary{Name: v.GetName(), Type: dt.String(), Shape: []string{}}
		for _, d := range dims {
			out.Shape = append(out.Shape, d.String())
		}
		return out
	}
	for _, v := range GraphInputs(g) {
		s.Inputs = append(s.Inputs, vs(v))
	}
	for _, v := range g.GetOutput() {
		s.Outputs = append(s.Outputs, vs(v))
	}
	hist := map[string]int{}
	for _, n := range g.GetNode() {
		hist[n.GetOpType()]++
	}
	for op, c := range hist {
		s.Ops = append(s.Ops, OpCount{op, c})
	}
	sort.Slice(s.Ops, func(i, j int) bool {
		if s.Ops[i].Count != s.Ops[j].Count {
			return s.Ops[i].Count > s.Ops[j].Count
		}
		return s.Ops[i].Op < s.Ops[j].Op
	})
	roles := Roles(g)
	for _, t := range g.GetInitializer() {
		n, _ := NumElements(t.Dims)
		switch roles[t.GetName()] {
		case Param:
			s.Params += int64(n)
			s.ParamBytes += int64(n * ElemSize(pb.TensorProto_DataType(t.GetDataType())))
		case Buffer:
			s.Buffers += int64(n)
		}
	}
	s.Tied = Tied(g)
	if len(m.MetadataProps) > 0 {
		s.Metadata = map[string]string{}
		for _, p := range m.MetadataProps {
			s.Metadata[p.GetKey()] = p.GetValue()
		}
	}
	return s
}
