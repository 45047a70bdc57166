package importer

import (
	"google.golang.org/protobuf/proto"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// InferenceForm returns a copy of mp whose BatchNormalization and Dropout nodes are in
// inference form, so that onnxruntime runs the model as the importer does in evaluation
// mode.
//
// PyTorch's training export (TrainingMode.PRESERVE, which keeps BatchNorm trainable) lists
// BatchNorm's running-statistic outputs (opsets 9–13) or sets training_mode=1 (opset 14+),
// and gives Dropout a training_mode input of true; onnxruntime then normalises with batch
// statistics and drops activations. The importer ignores all that (its Phase decides), so
// comparing with onnxruntime in evaluation mode needs this form. It keeps only the first
// output of those nodes, drops training_mode, and fails if a dropped output is used.
func InferenceForm(mp *pb.ModelProto) (*pb.ModelProto, error) {
	out := proto.Clone(mp).(*pb.ModelProto)
	g := out.Graph
	dropped := map[string]string{}
	for _, n := range g.Node {
		switch n.GetOpType() {
		case "BatchNormalization", "Dropout":
			for _, o := range n.Output[1:] {
				if o != "" {
					dropped[o] = nodeName(n)
				}
			}
			n.Output = n.Output[:1]
			var attrs []*pb.AttributeProto
			for _, a := range n.Attribute {
				if a.GetName() != "training_mode" {
					attrs = append(attrs, a)
				}
			}
			n.Attribute = attrs
			if n.GetOpType() == "Dropout" && len(n.Input) > 2 {
				n.Input = n.Input[:2]
			}
		}
	}
	for _, n := range g.Node {
		for _, in := range n.Input {
			if owner, ok := dropped[in]; ok {
				return nil, errorf("InferenceForm: node %q uses %q, a training-only output of node %q", nodeName(n), in, owner)
			}
		}
	}
	var outs []*pb.ValueInfoProto
	for _, o := range g.Output {
		if _, ok := dropped[o.GetName()]; !ok {
			outs = append(outs, o)
		}
	}
	g.Output = outs
	var infos []*pb.ValueInfoProto
	for _, v := range g.ValueInfo {
		if _, ok := dropped[v.GetName()]; !ok {
			infos = append(infos, v)
		}
	}
	g.ValueInfo = infos
	if err := onnx.Validate(out); err != nil {
		return nil, errorf("InferenceForm: %v", err)
	}
	return out, nil
}
