package graphs

import (
	"fmt"
	"math"

	"google.golang.org/protobuf/proto"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// External is an encoder taken from an ONNX classification network (`train --init X.onnx`
// for anything but a ResNet: ConvNeXt, EfficientNet, MobileNet, RegNet, ViT…). Its graph,
// cut at Features, replaces graphs' ResNet: the heads read Features (and LowLevel), and the
// network's initializers keep their names, so a trained copy loads back into the framework
// that exported it by state_dict key. importer.DenseMaps finds the tensors to name here.
type External struct {
	Model    *pb.ModelProto `json:"-"`
	Name     string         `json:"name"`     // for messages and the graph's name (the file)
	Features string         `json:"features"` // the dense output: [N, C, h, w], or tokens [N, L, C]
	Channels int            `json:"channels"`
	Stride   int            `json:"stride"`
	// Tokens: Features is a token sequence; its first Drop tokens (class, registers) are
	// dropped and the rest reshaped to the GridH×GridW patch grid [N, C, GridH, GridW].
	Tokens       bool   `json:"tokens,omitempty"`
	Drop         int    `json:"drop,omitempty"`
	GridH, GridW int    `json:"-"`
	LowLevel     string `json:"low_level,omitempty"` // a finer [N, CLow, h', w'] map; "" means Features
	CLow         int    `json:"c_low,omitempty"`
}

// Opset is the opset of a model with this encoder: the exporter's, at least graphs' own.
func (e *External) Opset() int64 {
	o, err := onnx.Opset(e.Model, "")
	if err != nil || o < Opset {
		return Opset
	}
	return o
}

// external copies the part of e's graph that computes Features and LowLevel into b, its
// image input renamed to x, and returns the encoder's outputs (tokens made a grid).
func external(b *Builder, x Tensor, e *External) encoderOut {
	g := e.Model.GetGraph()
	if g == nil {
		b.Failf("external encoder %s: the model has no graph", e.Name)
		return encoderOut{}
	}
	inits := map[string]*pb.TensorProto{}
	for _, t := range g.Initializer {
		inits[t.GetName()] = t
	}
	var image string
	for _, v := range g.Input {
		if _, ok := inits[v.GetName()]; !ok {
			if image != "" {
				b.Failf("external encoder %s: several inputs (%q, %q); an encoder takes one image", e.Name, image, v.GetName())
				return encoderOut{}
			}
			image = v.GetName()
		}
	}
	// Keep the nodes Features and LowLevel depend on (the classifier goes).
	need := map[string]bool{e.Features: true}
	if e.LowLevel != "" {
		need[e.LowLevel] = true
	}
	keep := make([]bool, len(g.Node))
	for i := len(g.Node) - 1; i >= 0; i-- {
		n := g.Node[i]
		for _, o := range n.Output {
			if need[o] {
				keep[i] = true
			}
		}
		if keep[i] {
			for _, in := range n.Input {
				need[in] = true
			}
		}
	}
	for _, want := range []string{e.Features, e.LowLevel} {
		if want != "" && !producedBy(g, want) {
			b.Failf("external encoder %s: no node computes %q", e.Name, want)
			return encoderOut{}
		}
	}
	for _, t := range g.Initializer {
		if need[t.GetName()] && b.claim(t.GetName()) {
			b.inits = append(b.inits, proto.Clone(t).(*pb.TensorProto))
		}
	}
	rename := func(s string) string {
		if s == image {
			return x.Name
		}
		return s
	}
	for i, n := range g.Node {
		if !keep[i] {
			continue
		}
		c := proto.Clone(n).(*pb.NodeProto)
		for j, in := range c.Input {
			c.Input[j] = rename(in)
		}
		for _, o := range c.Output {
			if o != "" && !b.claim(o) {
				return encoderOut{}
			}
		}
		b.nodes = append(b.nodes, c)
	}
	out := encoderOut{features: Tensor{e.Features}, cFeatures: e.Channels}
	if e.Tokens {
		if e.GridH <= 0 || e.GridW <= 0 || e.Drop < 0 {
			b.Failf("external encoder %s: tokens %q need a patch grid (got %d×%d, drop %d)", e.Name, e.Features, e.GridH, e.GridW, e.Drop)
			return encoderOut{}
		}
		// [N, L, C] → drop the first Drop tokens → [N, h, w, C] → [N, C, h, w].
		t := out.features
		if e.Drop > 0 {
			t = b.Op("Slice", "tokens.patches", []Tensor{t, b.Ints(int64(e.Drop)), b.Ints(math.MaxInt64), b.Ints(1)})
		}
		t = b.Op("Reshape", "tokens.grid", []Tensor{t, b.Ints(0, int64(e.GridH), int64(e.GridW), int64(e.Channels))})
		out.features = b.Op("Transpose", "tokens.nchw", []Tensor{t}, onnx.IntsAttr("perm", 0, 3, 1, 2))
	}
	out.lowLevel, out.cLow = out.features, out.cFeatures
	if e.LowLevel != "" && e.LowLevel != e.Features {
		out.lowLevel, out.cLow = Tensor{e.LowLevel}, e.CLow
	} else {
		out.lowLevel = b.Op("Identity", "low_level.identity", []Tensor{out.features})
	}
	return out
}

// inputSides are the image input's H and W: fixed where the exporter fixed them (a ViT's
// position embedding), else symbolic.
func (e *External) inputSides() (onnx.Dim, onnx.Dim) {
	for _, v := range e.Model.GetGraph().GetInput() {
		d := v.GetType().GetTensorType().GetShape().GetDim()
		if len(d) == 4 && d[2].GetDimValue() > 0 && d[3].GetDimValue() > 0 {
			return onnx.Dim{Value: d[2].GetDimValue()}, onnx.Dim{Value: d[3].GetDimValue()}
		}
	}
	return dimH, dimW
}

func producedBy(g *pb.GraphProto, name string) bool {
	for _, n := range g.Node {
		for _, o := range n.Output {
			if o == name {
				return true
			}
		}
	}
	return false
}

func (e *External) String() string {
	return fmt.Sprintf("%s (dense map %s, %d channels, stride %d)", e.Name, e.Features, e.Channels, e.Stride)
}
