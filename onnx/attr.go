package onnx

import (
	"fmt"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Attr returns the node's attribute called name, or nil.
func Attr(n *pb.NodeProto, name string) *pb.AttributeProto {
	for _, a := range n.GetAttribute() {
		if a.GetName() == name {
			return a
		}
	}
	return nil
}

// AttrInt returns an INT attribute, or def when absent.
func AttrInt(n *pb.NodeProto, name string, def int64) int64 {
	if a := Attr(n, name); a != nil {
		return a.GetI()
	}
	return def
}

// AttrFloat returns a FLOAT attribute, or def when absent.
func AttrFloat(n *pb.NodeProto, name string, def float32) float32 {
	if a := Attr(n, name); a != nil {
		return a.GetF()
	}
	return def
}

// AttrString returns a STRING attribute, or def when absent.
func AttrString(n *pb.NodeProto, name string, def string) string {
	if a := Attr(n, name); a != nil {
		return string(a.GetS())
	}
	return def
}

// AttrInts returns an INTS attribute, or def when absent.
func AttrInts(n *pb.NodeProto, name string, def []int64) []int64 {
	if a := Attr(n, name); a != nil {
		return a.GetInts()
	}
	return def
}

// AttrFloats returns a FLOATS attribute, or def when absent.
func AttrFloats(n *pb.NodeProto, name string, def []float32) []float32 {
	if a := Attr(n, name); a != nil {
		return a.GetFloats()
	}
	return def
}

// AttrTensor returns a TENSOR attribute, or nil.
func AttrTensor(n *pb.NodeProto, name string) *pb.TensorProto {
	if a := Attr(n, name); a != nil {
		return a.GetT()
	}
	return nil
}

// Attribute constructors, for building nodes.

// IntAttr makes an INT attribute.
func IntAttr(name string, v int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: ptr(name), Type: ptr(pb.AttributeProto_INT), I: ptr(v)}
}

// FloatAttr makes a FLOAT attribute.
func FloatAttr(name string, v float32) *pb.AttributeProto {
	return &pb.AttributeProto{Name: ptr(name), Type: ptr(pb.AttributeProto_FLOAT), F: ptr(v)}
}

// StringAttr makes a STRING attribute.
func StringAttr(name, v string) *pb.AttributeProto {
	return &pb.AttributeProto{Name: ptr(name), Type: ptr(pb.AttributeProto_STRING), S: []byte(v)}
}

// IntsAttr makes an INTS attribute.
func IntsAttr(name string, v ...int64) *pb.AttributeProto {
	return &pb.AttributeProto{Name: ptr(name), Type: ptr(pb.AttributeProto_INTS), Ints: v}
}

// FloatsAttr makes a FLOATS attribute.
func FloatsAttr(name string, v ...float32) *pb.AttributeProto {
	return &pb.AttributeProto{Name: ptr(name), Type: ptr(pb.AttributeProto_FLOATS), Floats: v}
}

// TensorAttr makes a TENSOR attribute.
func TensorAttr(name string, t *pb.TensorProto) *pb.AttributeProto {
	return &pb.AttributeProto{Name: ptr(name), Type: ptr(pb.AttributeProto_TENSOR), T: t}
}

// NewNode makes a node. Names must be unique within a graph.
func NewNode(opType, name string, inputs, outputs []string, attrs ...*pb.AttributeProto) *pb.NodeProto {
	return &pb.NodeProto{OpType: ptr(opType), Name: ptr(name), Input: inputs, Output: outputs, Attribute: attrs}
}

// NodeString names a node for error messages: `"Conv_12" (Conv)`.
func NodeString(n *pb.NodeProto) string {
	name := n.GetName()
	if name == "" && len(n.Output) > 0 {
		name = "→" + n.Output[0]
	}
	return fmt.Sprintf("%q (%s)", name, n.GetOpType())
}
