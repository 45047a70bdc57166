package importer

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// value is what an ONNX tensor name resolves to during import: a Gorgonia node (computed at
// run time), a konst (known now, because every input shape is fixed per import), nothing
// (an omitted optional input), or an output the importer does not compute, with the reason.
type value struct {
	node        *G.Node
	k           *konst
	unavailable string        // why this output is not computed
	by          *pb.NodeProto // the node whose output is unavailable
	// reluFused: node already holds Relu of this tensor (ops.BatchNormRelu); the one Relu
	// that reads it passes node through.
	reluFused bool
}

func nodeValue(n *G.Node) value    { return value{node: n} }
func konstValue(k *konst) value    { return value{k: k} }
func (v value) present() bool      { return v.node != nil || v.k != nil }
func (v value) isKonst() bool      { return v.k != nil }
func unavailable(why string) value { return value{unavailable: why} }

// shape is the value's static shape (nil for an absent value).
func (v value) shape() []int {
	switch {
	case v.node != nil:
		return []int(v.node.Shape().Clone())
	case v.k != nil:
		return append([]int{}, v.k.shape...)
	}
	return nil
}

func (v value) String() string {
	switch {
	case v.node != nil:
		return fmt.Sprintf("node%v", v.node.Shape())
	case v.k != nil:
		return fmt.Sprintf("const %v%v", v.k.dt, v.k.shape)
	}
	return "absent"
}
