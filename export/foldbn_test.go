package export

import (
	"math"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// A 1×1 conv with 2 output channels (weight [2,1,1,1] = 2, −3; bias 0.5, 1) into a
// BatchNorm with γ = (1.5, −2), β = (0.25, 0), μ = (1, −1), σ² = (3, 0.5), ε = 1:
//
//	s  = γ/√(σ²+ε)  = (1.5/2, −2/√1.5)      = (0.75, −1.632993…)
//	W' = W·s        = (1.5, 4.898979…)
//	b' = (b−μ)·s+β  = (−0.5·0.75+0.25, 2·(−1.632993…)) = (−0.125, −3.265986…)
//
// A second conv shares the weight (so the folded one gets a new name and the shared value
// stays), and a BatchNorm after a Relu cannot fold and stays.
func TestFoldBatchNormByHand(t *testing.T) {
	g := &pb.GraphProto{
		Node: []*pb.NodeProto{
			onnx.NewNode("Conv", "conv", []string{"x", "w", "b"}, []string{"c"}),
			onnx.NewNode("BatchNormalization", "bn", []string{"c", "g", "beta", "mu", "var"}, []string{"y"}, onnx.FloatAttr("epsilon", 1)),
			onnx.NewNode("Conv", "conv2", []string{"x", "w"}, []string{"c2"}),
			onnx.NewNode("Relu", "relu", []string{"c2"}, []string{"r"}),
			onnx.NewNode("BatchNormalization", "bn2", []string{"r", "g", "beta", "mu", "var"}, []string{"y2"}),
		},
		Initializer: []*pb.TensorProto{
			onnx.FromFloats("w", []int{2, 1, 1, 1}, []float32{2, -3}),
			onnx.FromFloats("b", []int{2}, []float32{0.5, 1}),
			onnx.FromFloats("g", []int{2}, []float32{1.5, -2}),
			onnx.FromFloats("beta", []int{2}, []float32{0.25, 0}),
			onnx.FromFloats("mu", []int{2}, []float32{1, -1}),
			onnx.FromFloats("var", []int{2}, []float32{3, 0.5}),
		},
		Output: []*pb.ValueInfoProto{unshaped("y", pb.TensorProto_FLOAT), unshaped("y2", pb.TensorProto_FLOAT)},
	}
	folded, kept, err := foldBatchNorm(g)
	if err != nil {
		t.Fatal(err)
	}
	if folded != 1 || len(kept) != 1 || kept[0] != "bn2" {
		t.Fatalf("folded %d, kept %v; want 1 and [bn2]", folded, kept)
	}
	conv := g.Node[0]
	if conv.GetOpType() != "Conv" || conv.Output[0] != "y" || len(g.Node) != 4 {
		t.Fatalf("nodes after folding: %v", g.Node)
	}
	if conv.Input[1] == "w" {
		t.Fatalf("the shared weight was overwritten in place")
	}
	s1 := -2 / math.Sqrt(1.5)
	check := func(name string, want []float64) {
		t.Helper()
		got, err := onnx.Floats(onnx.Initializer(g, name))
		if err != nil {
			t.Fatal(err)
		}
		for i := range want {
			if math.Abs(float64(got[i])-want[i]) > 1e-6*math.Abs(want[i]) {
				t.Errorf("%s = %v, want %v", name, got, want)
				return
			}
		}
	}
	check(conv.Input[1], []float64{1.5, -3 * s1})
	check(conv.Input[2], []float64{-0.125, 2 * s1})
	check("w", []float64{2, -3}) // conv2 still reads the original
	for _, name := range []string{"g", "beta", "mu", "var"} {
		if onnx.Initializer(g, name) == nil {
			t.Errorf("%s was dropped though bn2 still reads it", name)
		}
	}
}

// A conv without bias gets one named after its weight; a conv whose output is also a graph
// output keeps its BatchNorm.
func TestFoldBatchNormBiasAndOutputs(t *testing.T) {
	g := &pb.GraphProto{
		Node: []*pb.NodeProto{
			onnx.NewNode("Conv", "a", []string{"x", "layer.conv.weight"}, []string{"c"}),
			onnx.NewNode("BatchNormalization", "bn", []string{"c", "g", "beta", "mu", "var"}, []string{"y"}),
			onnx.NewNode("Conv", "b", []string{"y", "w2"}, []string{"d"}),
			onnx.NewNode("BatchNormalization", "bn2", []string{"d", "g", "beta", "mu", "var"}, []string{"z"}),
		},
		Initializer: []*pb.TensorProto{
			onnx.FromFloats("layer.conv.weight", []int{1, 1, 1, 1}, []float32{4}),
			onnx.FromFloats("w2", []int{1, 1, 1, 1}, []float32{1}),
			onnx.FromFloats("g", []int{1}, []float32{1}),
			onnx.FromFloats("beta", []int{1}, []float32{2}),
			onnx.FromFloats("mu", []int{1}, []float32{3}),
			onnx.FromFloats("var", []int{1}, []float32{4 - 1e-5}),
		},
		Output: []*pb.ValueInfoProto{unshaped("z", pb.TensorProto_FLOAT), unshaped("d", pb.TensorProto_FLOAT)},
	}
	folded, kept, err := foldBatchNorm(g)
	if err != nil {
		t.Fatal(err)
	}
	if folded != 1 || len(kept) != 1 || kept[0] != "bn2" {
		t.Fatalf("folded %d, kept %v", folded, kept)
	}
	if in := g.Node[0].Input; len(in) != 3 || in[2] != "layer.conv.bias" {
		t.Fatalf("conv inputs %v, want a bias called layer.conv.bias", in)
	}
	// s = 1/√(4−1e-5+1e-5) = 0.5: W' = 2, b' = (0−3)·0.5+2 = 0.5.
	w, _ := onnx.Floats(onnx.Initializer(g, "layer.conv.weight"))
	b, _ := onnx.Floats(onnx.Initializer(g, "layer.conv.bias"))
	if math.Abs(float64(w[0])-2) > 1e-6 || math.Abs(float64(b[0])-0.5) > 1e-6 {
		t.Errorf("W' %v b' %v, want 2 and 0.5", w, b)
	}
}
