package importer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// DenseMap is a tensor of a classification network that can serve as its encoder's dense
// output (what pre-training and segmentation heads read): a feature map [N, C, H/s, W/s],
// or a ViT's token sequence [N, L, C] whose last GridH·GridW tokens are the patch grid.
type DenseMap struct {
	Name     string `json:"name"` // the ONNX tensor
	Op       string `json:"op"`   // the op that produces it
	Shape    []int  `json:"shape"`
	Channels int    `json:"channels"`
	Stride   int    `json:"stride"` // input side / map side
	// Tokens: a token sequence; the first Drop tokens (class and register tokens)
	// are dropped and the rest reshaped to [N, C, GridH, GridW].
	Tokens       bool `json:"tokens,omitempty"`
	Drop         int  `json:"drop,omitempty"`
	GridH, GridW int  `json:"-"`
	Default      bool `json:"default,omitempty"` // what --features defaults to
	Stage        bool `json:"-"`                 // its stride's stage output (see Stages)
}

func (d DenseMap) String() string {
	s := fmt.Sprintf("%s (%s) %v stride %d", d.Name, d.Op, d.Shape, d.Stride)
	if d.Tokens {
		s += fmt.Sprintf(", tokens: %d dropped, %d×%d patch grid", d.Drop, d.GridH, d.GridW)
	}
	return s
}

// ProbeSize is the input DenseMaps imports a model at when its spatial size is free: not a
// square and not a multiple of 32, so that maps whose axes are not (H, W) in that order (the
// channels-last tensors inside ConvNeXt blocks) do not look like feature maps.
var ProbeSize = [2]int{160, 96}

// DenseMaps imports mp (evaluation mode, batch 2, its declared spatial size or ProbeSize)
// and lists, in graph order, the tensors that can be its dense output: the 4-D maps whose
// last two axes are the input's sides divided by one stride (pooled 1×1 maps and the outputs
// of pooling excepted), and the token sequences that follow a patch grid (Add or
// LayerNormalization outputs [N, L, C], L − grid ≤ 8). The default —
// the input of the last global pooling (GlobalAveragePool, or ReduceMean over the spatial
// axes), or for a ViT the tokens whose class token the classifier reads (the last Gather on
// axis 1, or a ReduceMean over the tokens), else a graph output named "features" — is
// marked; none may be.
func DenseMaps(mp *pb.ModelProto) ([]DenseMap, error) {
	g := mp.GetGraph()
	if g == nil {
		return nil, errorf("model has no graph")
	}
	init := map[string]bool{}
	for _, t := range g.Initializer {
		init[t.GetName()] = true
	}
	var in *pb.ValueInfoProto
	for _, v := range g.Input {
		if !init[v.GetName()] {
			if in != nil {
				return nil, errorf("dense maps: the model has several inputs (%q, %q); an encoder takes one image", in.GetName(), v.GetName())
			}
			in = v
		}
	}
	if in == nil {
		return nil, errorf("dense maps: the model has no input")
	}
	dims := in.GetType().GetTensorType().GetShape().GetDim()
	if len(dims) != 4 {
		return nil, errorf("dense maps: input %q has %d axes, want an image [N, 3, H, W]", in.GetName(), len(dims))
	}
	h, w := ProbeSize[0], ProbeSize[1]
	if dims[2].GetDimValue() > 0 && dims[3].GetDimValue() > 0 {
		h, w = int(dims[2].GetDimValue()), int(dims[3].GetDimValue())
	}
	c := int(dims[1].GetDimValue())
	if c <= 0 {
		c = 3
	}
	m, err := Import(mp, Options{InputShapes: map[string][]int{in.GetName(): {2, c, h, w}}, AllowTied: true})
	if err != nil {
		return nil, err
	}
	var maps []DenseMap
	byName := map[string]int{}
	residual := map[string]bool{} // maps that are a residual join (see below)
	gh, gw, gs := 0, 0, 0         // the last grid seen
	for _, n := range g.Node {
		op := n.GetOpType()
		if op == "GlobalAveragePool" || op == "ReduceMean" {
			continue
		}
		for _, out := range n.Output {
			v, ok := m.values[out]
			if !ok || v.node == nil {
				continue
			}
			s := []int(v.node.Shape())
			if s[0] != 2 {
				continue
			}
			switch len(s) {
			case 4:
				if s[2]*s[3] <= 1 {
					continue
				}
				st := (h + s[2] - 1) / s[2]
				if st < 1 || sideDiv(h, st) != s[2] || sideDiv(w, st) != s[3] {
					continue
				}
				byName[out] = len(maps)
				maps = append(maps, DenseMap{Name: out, Op: op, Shape: s, Channels: s[1], Stride: st})
				gh, gw, gs = s[2], s[3], st
				switch {
				case op == "Add" && len(n.Input) == 2 && sameMap(m, n.Input[0], s) && sameMap(m, n.Input[1], s):
					residual[out] = true
				case activations[op] && len(n.Input) > 0 && residual[n.Input[0]]:
					residual[out] = true
				}
			case 3:
				if gh == 0 || s[1] < gh*gw || s[1]-gh*gw > 8 || (op != "Add" && op != "LayerNormalization") {
					continue
				}
				byName[out] = len(maps)
				maps = append(maps, DenseMap{Name: out, Op: op, Shape: s, Channels: s[2], Stride: gs,
					Tokens: true, Drop: s[1] - gh*gw, GridH: gh, GridW: gw})
			}
		}
	}
	// The default: the input of the last pooling that reads a candidate.
	def := -1
	for _, n := range g.Node {
		if len(n.Input) == 0 {
			continue
		}
		i, ok := byName[n.Input[0]]
		if !ok {
			continue
		}
		switch {
		case n.GetOpType() == "GlobalAveragePool" && !maps[i].Tokens,
			n.GetOpType() == "ReduceMean" && !maps[i].Tokens && spatialAxes(m, n),
			n.GetOpType() == "Gather" && maps[i].Tokens && onnx.AttrInt(n, "axis", 0) == 1,
			n.GetOpType() == "ReduceMean" && maps[i].Tokens:
			def = i
		}
	}
	if def < 0 { // an encoder cut at its dense map (an earlier run's encoder.onnx)
		for _, o := range g.Output {
			if i, ok := byName[o.GetName()]; ok && o.GetName() == "features" {
				def = i
			}
		}
	}
	if def >= 0 {
		maps[def].Default = true
	}
	// Of each stride mark a stage's output, the tap an FPN would take: the last residual
	// join (an Add of two maps of that stride, or one activation of it: ResNet's and RegNet's
	// ReLU after the Add), else the last map. The last map alone would be, in the
	// inverted-residual nets, the next block's expansion before its strided depthwise conv.
	last := map[[2]int]int{}
	for i, d := range maps {
		k := [2]int{d.Stride, boolInt(d.Tokens)}
		j, seen := last[k]
		if !seen || !residual[maps[j].Name] || residual[d.Name] {
			last[k] = i
		}
	}
	for i := range maps {
		maps[i].Stage = maps[i].Default || last[[2]int{maps[i].Stride, boolInt(maps[i].Tokens)}] == i
	}
	return maps, nil
}

// Stages is the short list inspect prints: each stride's stage output (its last residual
// join, else its last map) and the default.
func Stages(maps []DenseMap) []DenseMap {
	var out []DenseMap
	for _, d := range maps {
		if d.Stage {
			out = append(out, d)
		}
	}
	return out
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// activations may follow a residual Add within its stage output.
var activations = map[string]bool{"Relu": true, "HardSwish": true, "Sigmoid": true, "Erf": true, "Gelu": true}

// sameMap says whether tensor name is a run-time map of shape s.
func sameMap(m *Model, name string, s []int) bool {
	v, ok := m.values[name]
	return ok && v.node != nil && slices.Equal([]int(v.node.Shape()), s)
}

// spatialAxes says whether a ReduceMean averages over axes 2 and 3 of a 4-D input (the
// global pooling some exports spell that way).
func spatialAxes(m *Model, n *pb.NodeProto) bool {
	axes := onnx.AttrInts(n, "axes", nil)
	if len(axes) == 0 && len(n.Input) > 1 {
		if v, ok := m.values[n.Input[1]]; ok && v.k != nil {
			for _, a := range v.k.ints() {
				axes = append(axes, int64(a))
			}
		}
	}
	has := map[int64]bool{}
	for _, a := range axes {
		if a < 0 {
			a += 4
		}
		has[a] = true
	}
	return len(has) == 2 && has[2] && has[3]
}

func sideDiv(a, b int) int { return (a + b - 1) / b }

// PickDenseMap returns the map named name, or the default when name is empty; the error
// lists the candidates and says how to choose (the --features flag).
func PickDenseMap(maps []DenseMap, name string) (DenseMap, error) {
	var list []string
	for _, d := range maps {
		if name == "" && d.Default || name != "" && d.Name == name {
			return d, nil
		}
		if d.Stage {
			list = append(list, "  "+d.String())
		}
	}
	what := fmt.Sprintf("tensor %q is not one of its dense maps", name)
	if name == "" {
		what = "found no global pooling to take the dense map before"
	}
	if len(list) == 0 {
		return DenseMap{}, &OptionsError{Msg: fmt.Sprintf("%s, and the model has no [N, C, H/s, W/s] map nor patch tokens at all", what)}
	}
	return DenseMap{}, &OptionsError{Msg: fmt.Sprintf("%s; pass --features with a tensor name, e.g. one of these stage outputs (ssl4dp inspect MODEL --check lists them):\n%s", what, strings.Join(list, "\n"))}
}
