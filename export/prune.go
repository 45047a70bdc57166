package export

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// prune returns a copy of g that computes only outputs: the nodes on a path to them, the
// graph inputs and initializers those nodes read, and the outputs themselves as the graph's
// outputs. Everything else — projectors, predictors, rotation heads, other outputs — is
// dropped. Intermediate value_info is dropped too: it describes the source's shapes, which a
// static or dynamic export changes. Node order (a topological order) is kept.
func prune(g *pb.GraphProto, outputs []string) (*pb.GraphProto, error) {
	producer := map[string]int{}
	for i, n := range g.Node {
		for _, o := range n.Output {
			if o != "" {
				producer[o] = i
			}
		}
	}
	inits := onnx.Initializers(g)
	isInput := map[string]bool{}
	for _, in := range g.Input {
		isInput[in.GetName()] = true
	}
	keep := make([]bool, len(g.Node))
	used := map[string]bool{}
	var need func(name string)
	need = func(name string) {
		if name == "" || used[name] {
			return
		}
		used[name] = true
		i, ok := producer[name]
		if !ok || keep[i] {
			return
		}
		keep[i] = true
		for _, in := range nodeReads(g.Node[i]) {
			need(in)
		}
	}
	for _, o := range outputs {
		_, made := producer[o]
		if !made && !isInput[o] && inits[o] == nil {
			return nil, fmt.Errorf("export: the model has no tensor %q", o)
		}
		need(o)
	}

	out := &pb.GraphProto{Name: g.Name, DocString: g.DocString}
	for i, n := range g.Node {
		if keep[i] {
			out.Node = append(out.Node, proto.Clone(n).(*pb.NodeProto))
		}
	}
	for _, in := range g.Input {
		if used[in.GetName()] && inits[in.GetName()] == nil {
			out.Input = append(out.Input, proto.Clone(in).(*pb.ValueInfoProto))
		}
	}
	for _, t := range g.Initializer {
		if used[t.GetName()] {
			out.Initializer = append(out.Initializer, t) // read-only from here on: no clone
		}
	}
	declared := map[string]*pb.ValueInfoProto{}
	for _, v := range append(append([]*pb.ValueInfoProto{}, g.ValueInfo...), g.Output...) {
		declared[v.GetName()] = v
	}
	for _, o := range outputs {
		if v, ok := declared[o]; ok {
			out.Output = append(out.Output, proto.Clone(v).(*pb.ValueInfoProto))
		} else {
			out.Output = append(out.Output, unshaped(o, pb.TensorProto_FLOAT))
		}
	}
	return out, nil
}

// nodeReads lists the tensors a node reads: its inputs and, for control-flow ops, the
// outer-scope names their subgraphs use.
func nodeReads(n *pb.NodeProto) []string {
	reads := append([]string{}, n.Input...)
	for _, a := range n.Attribute {
		for _, sub := range append([]*pb.GraphProto{a.GetG()}, a.GetGraphs()...) {
			if sub == nil {
				continue
			}
			for _, sn := range sub.Node {
				reads = append(reads, nodeReads(sn)...)
			}
		}
	}
	return reads
}

// dropUnusedInitializers removes initializers no node reads and that are not outputs.
func dropUnusedInitializers(g *pb.GraphProto) {
	used := map[string]bool{}
	for _, n := range g.Node {
		for _, in := range nodeReads(n) {
			used[in] = true
		}
	}
	for _, o := range g.Output {
		used[o.GetName()] = true
	}
	kept := g.Initializer[:0:0]
	for _, t := range g.Initializer {
		if used[t.GetName()] {
			kept = append(kept, t)
		}
	}
	g.Initializer = kept
}

// unshaped declares a tensor of element type elem and unknown shape (onnx.ValueInfo with no
// dims would declare a scalar).
func unshaped(name string, elem pb.TensorProto_DataType) *pb.ValueInfoProto {
	return &pb.ValueInfoProto{Name: proto.String(name), Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{
		TensorType: &pb.TypeProto_Tensor{ElemType: proto.Int32(int32(elem))}}}}
}
