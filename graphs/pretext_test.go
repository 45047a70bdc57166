package graphs

import (
	"math"
	"slices"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// Each projector's names and shapes are PyTorch's nn.Sequential ones, its output matches a
// plain Go evaluation (eval-mode BatchNorm) of the pooled features, and affine-free
// BatchNorm has no trainable parameters.
func TestProjectors(t *testing.T) {
	initORT(t)
	const c = 128 // ResNet-50 at width 1/16: 2048/16 channels
	cases := []struct {
		proj       Projector
		inits      map[string][]int64 // a few names and shapes that must exist
		absent     []string
		dim        int
		layers     []refLayer
		predLayers []refLayer
	}{
		{ProjectorMoCoV2,
			map[string][]int64{"projector.0.weight": {c, c}, "projector.0.bias": {c}, "projector.2.weight": {128, c}, "projector.2.bias": {128}},
			[]string{"predictor.0.weight"}, 128,
			[]refLayer{{name: "projector.0", bias: true, relu: true}, {name: "projector.2", bias: true}}, nil},
		{ProjectorBYOL,
			map[string][]int64{"projector.0.weight": {256, c}, "projector.1.running_var": {256}, "projector.3.weight": {256, 256},
				"predictor.0.weight": {256, 256}, "predictor.3.weight": {256, 256}},
			[]string{"projector.3.bias", "predictor.3.bias"}, 256,
			[]refLayer{{name: "projector.0", bias: true, bn: "projector.1", relu: true}, {name: "projector.3"}},
			[]refLayer{{name: "predictor.0", bias: true, bn: "predictor.1", relu: true}, {name: "predictor.3"}}},
		{ProjectorSimSiam,
			map[string][]int64{"projector.0.weight": {c, c}, "projector.4.weight": {c}, "projector.6.weight": {2048, c},
				"projector.7.running_mean": {2048}, "predictor.0.weight": {32, 2048}, "predictor.3.bias": {2048}},
			[]string{"projector.0.bias", "projector.7.weight", "projector.7.bias", "predictor.0.bias"}, 2048,
			[]refLayer{{name: "projector.0", bn: "projector.1", relu: true}, {name: "projector.3", bn: "projector.4", relu: true},
				{name: "projector.6", bn: "projector.7"}},
			[]refLayer{{name: "predictor.0", bn: "predictor.1", relu: true}, {name: "predictor.3", bias: true}}},
	}
	for _, tc := range cases {
		t.Run(string(tc.proj), func(t *testing.T) {
			m := mustBuild(t, Spec{Encoder: ResNet50, Width: 1.0 / 16, Pretext: Pretext{Projector: tc.proj}, Seed: 3})
			inits := onnx.Initializers(m.Graph)
			for name, shape := range tc.inits {
				if init, ok := inits[name]; !ok || !slices.Equal(init.Dims, shape) {
					t.Errorf("initializer %s: got %v (present %v), want shape %v", name, inits[name].GetDims(), ok, shape)
				}
			}
			for _, name := range tc.absent {
				if _, ok := inits[name]; ok {
					t.Errorf("initializer %s should not exist", name)
				}
			}
			randomizeBN(m.Graph) // so that the reference checks the statistics' wiring too
			out := runORT(t, m, map[string]ort.Tensor{Input: randomInput(3, 40, 56, 2)})
			pooled := globalPool(out[Features])
			z := refMLP(t, m.Graph, pooled, tc.layers)
			if got := out[Projection]; !slices.Equal(got.Shape, []int64{3, int64(tc.dim)}) {
				t.Fatalf("projection shape %v", got.Shape)
			} else if e := relErr(got.Data.([]float32), flatten(z)); e > 1e-5 {
				t.Errorf("projection vs Go reference: relative error %.2g", e)
			}
			if tc.predLayers != nil {
				p := refMLP(t, m.Graph, z, tc.predLayers)
				if e := relErr(out[Prediction].Data.([]float32), flatten(p)); e > 1e-5 {
					t.Errorf("prediction vs Go reference: relative error %.2g", e)
				}
			} else if _, ok := out[Prediction]; ok {
				t.Error("MoCo v2 has no predictor")
			}
		})
	}
}

// Affine-free BatchNorm is not trainable: SimSiam's projector.7 adds only buffers.
func TestSimSiamLastBNHasNoParams(t *testing.T) {
	base := onnx.Summarize(mustBuild(t, Spec{Encoder: ResNet18, Width: 0.125}))
	m := onnx.Summarize(mustBuild(t, Spec{Encoder: ResNet18, Width: 0.125, Pretext: Pretext{Projector: ProjectorSimSiam, Dim: 10, PredictorHidden: 3}}))
	const c = 64 // ResNet-18 at 1/8
	// projector: 2×(c·c + BN 2c) + 10·c; predictor: 3·10 + BN 2·3 + 10·3 + 10.
	want := int64(2*(c*c+2*c) + 10*c + 3*10 + 2*3 + 10*3 + 10)
	if got := m.Params - base.Params; got != want {
		t.Errorf("SimSiam heads add %d trainable parameters, want %d", got, want)
	}
	if got, want := m.Buffers-base.Buffers, int64(2*(2*c)+2*10+2*3); got != want {
		t.Errorf("SimSiam heads add %d buffer values, want %d", got, want)
	}
}

// Dense projector, decoder, rotation head and on-decoder projector: shapes, names, and the
// dense projector and rotation head against plain Go evaluations (a 1x1 conv MLP; a 1x1 conv
// then a half-pixel bilinear resize, as F.interpolate(align_corners=False)).
func TestDenseDecoderRotation(t *testing.T) {
	initORT(t)
	spec := Spec{Encoder: ResNet18, OutputStride: 16, Width: 0.125, Head: HeadDeepLabV3Plus, DecoderWidth: 24, Seed: 5,
		Pretext: Pretext{Projector: ProjectorMoCoV2, Dense: true, DenseHidden: 20, Rotation: true, OnDecoder: true}}
	m := mustBuild(t, spec)
	inits := onnx.Initializers(m.Graph)
	for name, shape := range map[string][]int64{"head.conv_dec.weight": {24, 64, 1, 1}, "dense_projector.0.weight": {20, 24, 1, 1},
		"dense_projector.2.bias": {128}, "rotation.conv.weight": {4, 24, 1, 1}, "projector.0.weight": {24, 24}} {
		if !slices.Equal(inits[name].GetDims(), shape) {
			t.Errorf("initializer %s: shape %v, want %v", name, inits[name].GetDims(), shape)
		}
	}
	if _, ok := inits["head.conv_seg.weight"]; ok {
		t.Error("a decoder has no conv_seg")
	}
	const n, h, w = 2, 37, 51
	out := runORT(t, m, map[string]ort.Tensor{Input: randomInput(n, h, w, 3)})
	dec := out[DecoderFeatures]
	if !slices.Equal(dec.Shape, []int64{n, 24, 10, 13}) { // DeepLabv3+ decodes at layer1's 1/4 scale
		t.Fatalf("decoder_features %v", dec.Shape)
	}
	if got := out[Projection].Shape; !slices.Equal(got, []int64{n, 128}) {
		t.Errorf("projection %v", got)
	}
	dense := refConv1x1(t, m.Graph, refConv1x1(t, m.Graph, dec, "dense_projector.0", true), "dense_projector.2", false)
	if e := relErr(out[DenseProjection].Data.([]float32), dense.Data.([]float32)); e > 1e-5 || !slices.Equal(out[DenseProjection].Shape, dense.Shape) {
		t.Errorf("dense_projection %v vs Go reference %v: relative error %.2g", out[DenseProjection].Shape, dense.Shape, e)
	}
	rot := resizeBilinear(refConv1x1(t, m.Graph, dec, "rotation.conv", false), h, w)
	if e := relErr(out[RotationLogits].Data.([]float32), rot.Data.([]float32)); e > 1e-5 || !slices.Equal(out[RotationLogits].Shape, rot.Shape) {
		t.Errorf("rotation_logits %v vs Go reference %v: relative error %.2g", out[RotationLogits].Shape, rot.Shape, e)
	}
}

// refLayer is one Linear of a reference MLP, with an optional eval-mode BatchNorm (its
// initializers, or Constant γ=1, β=0 when absent) and ReLU.
type refLayer struct {
	name string
	bias bool
	bn   string
	relu bool
}

func floats(t *testing.T, g *pb.GraphProto, name string) []float32 {
	t.Helper()
	init := onnx.Initializer(g, name)
	if init == nil {
		t.Fatalf("no initializer %q", name)
	}
	v, err := onnx.Floats(init)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func refMLP(t *testing.T, g *pb.GraphProto, x [][]float64, layers []refLayer) [][]float64 {
	for _, l := range layers {
		w := floats(t, g, l.name+".weight")
		in := len(x[0])
		out := len(w) / in
		y := make([][]float64, len(x))
		for i := range x {
			y[i] = make([]float64, out)
			for o := range out {
				s := 0.0
				if l.bias {
					s = float64(floats(t, g, l.name+".bias")[o])
				}
				for k := range in {
					s += float64(w[o*in+k]) * x[i][k]
				}
				if l.bn != "" {
					mean, variance := floats(t, g, l.bn+".running_mean")[o], floats(t, g, l.bn+".running_var")[o]
					gamma, beta := 1.0, 0.0
					if onnx.Initializer(g, l.bn+".weight") != nil {
						gamma, beta = float64(floats(t, g, l.bn+".weight")[o]), float64(floats(t, g, l.bn+".bias")[o])
					}
					s = (s-float64(mean))/math.Sqrt(float64(variance)+1e-5)*gamma + beta
				}
				if l.relu {
					s = max(s, 0)
				}
				y[i][o] = s
			}
		}
		x = y
	}
	return x
}

// randomizeBN gives every BatchNorm initializer distinct values.
func randomizeBN(g *pb.GraphProto) {
	for i, init := range g.Initializer {
		name := init.GetName()
		var lo, hi float64
		switch {
		case hasSuffix(name, ".running_mean"), hasSuffix(name, ".bias") && isBN(g, name):
			lo, hi = -0.2, 0.2
		case hasSuffix(name, ".running_var"), hasSuffix(name, ".weight") && isBN(g, name):
			lo, hi = 0.5, 1.5
		default:
			continue
		}
		n := int(init.Dims[0])
		v := Uniform(1).fill(int64(i), name, n)
		for k := range v {
			v[k] = float32(lo + (float64(v[k])+1)/2*(hi-lo))
		}
		g.Initializer[i] = onnx.FromFloats(name, []int{n}, v)
	}
}

func hasSuffix(s, suf string) bool { return len(s) >= len(suf) && s[len(s)-len(suf):] == suf }

func isBN(g *pb.GraphProto, init string) bool {
	for _, n := range g.Node {
		if n.GetOpType() == "BatchNormalization" && slices.Contains(n.Input, init) {
			return true
		}
	}
	return false
}

func globalPool(x ort.Tensor) [][]float64 {
	s, d := x.Shape, x.Data.([]float32)
	hw := int(s[2] * s[3])
	out := make([][]float64, s[0])
	for n := range out {
		out[n] = make([]float64, s[1])
		for c := range out[n] {
			sum := 0.0
			for _, v := range d[(n*int(s[1])+c)*hw : (n*int(s[1])+c+1)*hw] {
				sum += float64(v)
			}
			out[n][c] = sum / float64(hw)
		}
	}
	return out
}

func flatten(x [][]float64) []float32 {
	var out []float32
	for _, row := range x {
		for _, v := range row {
			out = append(out, float32(v))
		}
	}
	return out
}

// refConv1x1 applies the 1x1 conv with bias called name to x [N,C,H,W], then ReLU if relu.
func refConv1x1(t *testing.T, g *pb.GraphProto, x ort.Tensor, name string, relu bool) ort.Tensor {
	w, b := floats(t, g, name+".weight"), floats(t, g, name+".bias")
	n, c, hw := int(x.Shape[0]), int(x.Shape[1]), int(x.Shape[2]*x.Shape[3])
	o := len(b)
	in := x.Data.([]float32)
	out := make([]float32, n*o*hw)
	for i := range n {
		for k := range o {
			for p := range hw {
				s := float64(b[k])
				for j := range c {
					s += float64(w[k*c+j]) * float64(in[(i*c+j)*hw+p])
				}
				if relu {
					s = max(s, 0)
				}
				out[(i*o+k)*hw+p] = float32(s)
			}
		}
	}
	return ort.Tensor{Shape: []int64{int64(n), int64(o), x.Shape[2], x.Shape[3]}, Data: out}
}

// resizeBilinear is F.interpolate(x, (h, w), mode="bilinear", align_corners=False).
func resizeBilinear(x ort.Tensor, h, w int) ort.Tensor {
	n, c, ih, iw := int(x.Shape[0]), int(x.Shape[1]), int(x.Shape[2]), int(x.Shape[3])
	in := x.Data.([]float32)
	src := func(dst, inLen, outLen int) (int, int, float64) {
		s := max((float64(dst)+0.5)*float64(inLen)/float64(outLen)-0.5, 0)
		i0 := min(int(s), inLen-1)
		return i0, min(i0+1, inLen-1), s - float64(i0)
	}
	out := make([]float32, n*c*h*w)
	for p := range n * c {
		plane := in[p*ih*iw : (p+1)*ih*iw]
		for y := range h {
			y0, y1, fy := src(y, ih, h)
			for xx := range w {
				x0, x1, fx := src(xx, iw, w)
				top := float64(plane[y0*iw+x0])*(1-fx) + float64(plane[y0*iw+x1])*fx
				bot := float64(plane[y1*iw+x0])*(1-fx) + float64(plane[y1*iw+x1])*fx
				out[p*h*w+y*w+xx] = float32(top*(1-fy) + bot*fy)
			}
		}
	}
	return ort.Tensor{Shape: []int64{int64(n), int64(c), int64(h), int64(w)}, Data: out}
}
