package importer

import (
	"fmt"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// UnsupportedError reports an op, attribute or input form the importer cannot lower. It is
// never a panic and never silently approximated: the message says what to do instead.
type UnsupportedError struct {
	Node  string // the ONNX node's name (or "→output" when it has none); "" for model-level limits
	Op    string // its op type
	Opset int64  // the model's default-domain opset
	What  string // what is not supported, e.g. `attribute storage_order=1`
	Hint  string // what to do about it
}

func (e *UnsupportedError) Error() string {
	if e.Node == "" && e.Op == "" {
		return fmt.Sprintf("importer: %s not supported; %s", e.What, e.Hint)
	}
	return fmt.Sprintf("importer: node %q (%s, opset %d): %s not supported; %s", e.Node, e.Op, e.Opset, e.What, e.Hint)
}

// NodeError is any other failure while lowering one node (bad shapes, bad attribute values),
// naming the node and wrapping the cause.
type NodeError struct {
	Node  string
	Op    string
	Opset int64
	Err   error
}

func (e *NodeError) Error() string {
	return fmt.Sprintf("importer: node %q (%s, opset %d): %v", e.Node, e.Op, e.Opset, e.Err)
}

func (e *NodeError) Unwrap() error { return e.Err }

// nodeName names a node for messages: its name, or its first output when it has none.
func nodeName(n *pb.NodeProto) string {
	if n.GetName() != "" {
		return n.GetName()
	}
	if len(n.Output) > 0 {
		return "→" + n.Output[0]
	}
	return "?"
}

func errorf(format string, args ...any) error {
	return fmt.Errorf("importer: "+format, args...)
}

// OptionsError reports Options that do not fit the model (input shapes, input names,
// dtype): the caller's input, not the model's fault. ExitCode lets the CLI exit with 2, as
// for a bad flag.
type OptionsError struct{ Msg string }

func (e *OptionsError) Error() string { return "importer: " + e.Msg }

// ExitCode is 2: bad input.
func (e *OptionsError) ExitCode() int { return 2 }

func optionsErrorf(format string, args ...any) error {
	return &OptionsError{Msg: fmt.Sprintf(format, args...)}
}
