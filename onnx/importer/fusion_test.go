package importer

import (
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops"
)

// opNames lists the op of every node of m's graph.
func opNames(m *Model) []string {
	var ops []string
	for _, n := range m.Graph.AllNodes() {
		if n.Op() != nil {
			ops = append(ops, n.Op().String())
		}
	}
	return ops
}

func countPrefix(ss []string, prefix string) int {
	n := 0
	for _, s := range ss {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// A BatchNormalization read only by a Relu becomes one BatchNormRelu op, with the outputs of
// the unfused graph (and onnxruntime's); one whose output is also read elsewhere, or is a
// graph output, stays two ops; NoFusion keeps every node its own.
func TestBatchNormReluFusion(t *testing.T) {
	bn := func(g *graph, x, y string) {
		g.init(onnx.FromFloats(y+"_mean", []int{3}, []float32{0.1, -0.2, 0.3})).init(onnx.FromFloats(y+"_var", []int{3}, []float32{0.5, 1.5, 2}))
		g.param(y+"_s", 1, 0.5, 1.5, 3).param(y+"_b", 2, -0.5, 0.5, 3)
		g.node("BatchNormalization", []string{x, y + "_s", y + "_b", y + "_mean", y + "_var"}, []string{y})
	}
	fused := newGraph(13).input("x", 2, 3, 4, 5)
	bn(fused, "x", "y")
	fused.node("Relu", []string{"y"}, []string{"r"})
	bn(fused, "r", "y2") // read by the Relu and by the Add: not fused
	fused.node("Relu", []string{"y2"}, []string{"r2"})
	fused.node("Add", []string{"r2", "y2"}, []string{"out"}).output("out")
	feed := feeds("x", randFeed(3, 2, 3, 4, 5))
	for _, training := range []bool{false, true} {
		mp := fused.model()
		_, m := runImport(t, mp, feed, Options{Phase: &ops.Phase{Training: training}})
		names := opNames(m)
		if countPrefix(names, "BatchNormRelu#") != 1 || countPrefix(names, "BatchNorm#") != 1 || countPrefix(names, "Relu") != 1 {
			t.Errorf("training=%t: ops %v, want one BatchNormRelu, one BatchNorm and one Relu", training, names)
		}
		if _, err := m.Tensor("y"); err == nil || !strings.Contains(err.Error(), "NoFusion") {
			t.Errorf("Tensor(y) of the fused BatchNormalization: %v, want an error naming Options.NoFusion", err)
		}
		if _, err := m.Tensor("r"); err != nil {
			t.Errorf("Tensor(r): %v", err)
		}
		if !training {
			compareORT(t, mp, feed, Options{}, 1e-5)
		}
		got, _ := runImport(t, mp, feed, Options{Phase: &ops.Phase{Training: training}})
		want, plain := runImport(t, mp, feed, Options{Phase: &ops.Phase{Training: training}, NoFusion: true})
		if !slices.Equal(got["out"], want["out"]) {
			t.Errorf("training=%t: fused output differs from NoFusion's", training)
		}
		if n := countPrefix(opNames(plain), "BatchNormRelu#"); n != 0 {
			t.Errorf("NoFusion: %d BatchNormRelu ops", n)
		}
		if _, err := plain.Tensor("y"); err != nil {
			t.Errorf("NoFusion Tensor(y): %v", err)
		}
	}
	// A BatchNormalization whose output is a graph output is not fused.
	out := newGraph(13).input("x", 2, 3, 4, 5)
	bn(out, "x", "y")
	out.node("Relu", []string{"y"}, []string{"r"}).output("r", "y")
	_, m := runImport(t, out.model(), feed, Options{})
	if n := countPrefix(opNames(m), "BatchNormRelu#"); n != 0 {
		t.Errorf("BatchNormalization output is a graph output: %d BatchNormRelu ops, want 0", n)
	}
}
