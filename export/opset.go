package export

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// opsetChange is one revision of an op's schema between opsets 14 and 17. Feature names the
// attribute that revision introduced; "" means the revision only added element types
// (bfloat16, optional types), which a float32 model does not use.
type opsetChange struct {
	opset   int64
	feature string
}

// opsetHistory lists, for every op export converts between opsets 13 and 17, its schema
// revisions in 14–17 (ONNX's Changelog.md; checked against Debian's onnx 1.12 by
// TestOpsetHistoryMatchesONNX). An op that is not listed is not converted: moving a model
// that uses it to another opset is refused. An op listed with no revisions reads the same in
// all of 13–17.
var opsetHistory = map[string][]opsetChange{
	"Abs": nil, "And": nil, "ArgMax": nil, "AveragePool": nil, "Cast": nil, "Ceil": nil,
	"Clip": nil, "Concat": nil, "Constant": nil, "ConstantOfShape": nil, "Conv": nil,
	"Dropout": nil, "Equal": nil, "Erf": nil, "Exp": nil, "Expand": nil, "Flatten": nil,
	"Floor": nil, "Gather": nil, "Gemm": nil, "GlobalAveragePool": nil, "Greater": nil,
	"Less": nil, "Log": nil, "LogSoftmax": nil, "MatMul": nil, "Max": nil, "MaxPool": nil,
	"Mean": nil, "Min": nil, "Neg": nil, "Not": nil, "Or": nil, "Pad": nil, "Range": nil,
	"Reciprocal": nil, "ReduceMax": nil, "ReduceMean": nil, "ReduceSum": nil, "Resize": nil,
	"Round": nil, "Sigmoid": nil, "Size": nil, "Slice": nil, "Softmax": nil, "Split": nil,
	"Sqrt": nil, "Squeeze": nil, "Sum": nil, "Tanh": nil, "Tile": nil, "Transpose": nil,
	"Unsqueeze": nil,

	"Add": {{14, ""}}, "Sub": {{14, ""}}, "Mul": {{14, ""}}, "Div": {{14, ""}},
	"Relu":               {{14, ""}},
	"Identity":           {{14, ""}, {16, ""}},
	"BatchNormalization": {{14, "training_mode"}, {15, ""}},
	"Reshape":            {{14, "allowzero"}},
	"Pow":                {{15, ""}},
	"Shape":              {{15, "start"}, {15, "end"}},
	"GreaterOrEqual":     {{16, ""}}, "LessOrEqual": {{16, ""}}, "Where": {{16, ""}},
	"LeakyRelu": {{16, ""}}, "PRelu": {{16, ""}},
}

// convertOpset moves m from its default-domain opset to target (both in 13–17). Between
// those opsets the ops above change only by new element types or by an attribute whose
// absence (or default) keeps the old meaning, so a node converts unchanged unless it sets
// such an attribute to something other than its default and the target opset predates it.
// Anything else is refused with the node and the reason.
func convertOpset(m *pb.ModelProto, target int64) error {
	from, err := onnx.Opset(m, "")
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	if from == target {
		return nil
	}
	if from < onnx.MinWriteOpset || from > onnx.MaxWriteOpset {
		return fmt.Errorf("export: the model has opset %d; export converts between opsets %d and %d (re-export the source at opset %d or later, e.g. torch.onnx.export(..., opset_version=13))",
			from, onnx.MinWriteOpset, onnx.MaxWriteOpset, onnx.MinWriteOpset)
	}
	for _, o := range m.OpsetImport {
		if d := o.GetDomain(); d != "" && d != "ai.onnx" {
			return fmt.Errorf("export: the model imports the opset of domain %q, which export cannot convert", d)
		}
	}
	var unknown []string
	for _, n := range m.Graph.Node {
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			return fmt.Errorf("export: node %s is in domain %q, which export cannot convert", onnx.NodeString(n), d)
		}
		changes, ok := opsetHistory[n.GetOpType()]
		if !ok {
			unknown = append(unknown, n.GetOpType())
			continue
		}
		if target > from {
			continue // every later revision keeps the meaning of an attribute-free node
		}
		for _, c := range changes {
			if c.opset <= target || c.opset > from || c.feature == "" {
				continue
			}
			if a := onnx.Attr(n, c.feature); a != nil && !isDefault(n.GetOpType(), a) {
				return fmt.Errorf("export: node %s sets %s, which opset %d does not have (it came in opset %d); export at --opset %d or later",
					onnx.NodeString(n), c.feature, target, c.opset, c.opset)
			}
			// A default-valued attribute is dropped: the older schema does not know it.
			removeAttr(n, c.feature)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return fmt.Errorf("export: cannot move the model from opset %d to %d: export does not know how ops %s changed; keep the model's opset (--opset %d)",
			from, target, strings.Join(dedupe(unknown), ", "), from)
	}
	for _, o := range m.OpsetImport {
		if d := o.GetDomain(); d == "" || d == "ai.onnx" {
			o.Version = &target
		}
	}
	return nil
}

// isDefault reports whether an attribute introduced in 14–17 holds its default value.
func isDefault(op string, a *pb.AttributeProto) bool {
	switch op + "." + a.GetName() {
	case "BatchNormalization.training_mode", "Reshape.allowzero":
		return a.GetI() == 0
	case "Shape.start":
		return a.GetI() == 0
	}
	return false // Shape.end: any value can cut the shape
}

func removeAttr(n *pb.NodeProto, name string) {
	kept := n.Attribute[:0:0]
	for _, a := range n.Attribute {
		if a.GetName() != name {
			kept = append(kept, a)
		}
	}
	n.Attribute = kept
}

func dedupe(s []string) []string {
	var out []string
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
