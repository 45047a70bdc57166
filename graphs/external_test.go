package graphs

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
)

// An external encoder is the export's graph cut at the dense map: the classifier's nodes
// and initializers go, every other initializer keeps its name, the exporter's opset stays,
// ViT tokens become a grid, and the heads are built on the map's channels.
func TestBuildOnExternalEncoder(t *testing.T) {
	mp, err := onnx.ReadFile(filepath.Join(testenv.RepoRoot(t), "onnx/importer/testdata/families/vit.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	ext := &External{Model: mp, Name: "vit.onnx", Features: "/encoder/ln/LayerNormalization_output_0", Channels: 16, Stride: 8,
		Tokens: true, Drop: 1, GridH: 4, GridW: 4, LowLevel: "/conv_proj/Conv_output_0", CLow: 16}
	m, err := Build(Spec{External: ext, Pretext: Pretext{Dense: true, DenseDim: 8}, Outputs: []string{Features, LowLevel, DenseProjection}})
	if err != nil {
		t.Fatal(err)
	}
	if op, _ := onnx.Opset(m, ""); op != 17 {
		t.Errorf("opset %d, want the export's 17", op)
	}
	inits := onnx.Initializers(m.Graph)
	for _, name := range []string{"class_token", "encoder.pos_embedding", "conv_proj.weight", "encoder.ln.weight"} {
		if _, ok := inits[name]; !ok {
			t.Errorf("the export's initializer %q is missing", name)
		}
	}
	if len(m.Graph.Output) != 3 {
		t.Errorf("outputs %v, want features, low_level, dense_projection", m.Graph.Output)
	}
	for name := range inits {
		if slices.Contains([]string{"heads.head.weight", "heads.head.bias"}, name) {
			t.Errorf("the classifier's %q was kept", name)
		}
	}
	var ops []string
	for _, n := range m.Graph.Node {
		if n.GetOpType() == "Gemm" && n.GetName() == "/heads/head/Gemm" {
			t.Error("the classifier's Gemm was kept")
		}
		if n.GetOutput()[0] == Features {
			ops = append(ops, n.GetOpType())
		}
	}
	if !slices.Equal(ops, []string{"Transpose"}) {
		t.Errorf("features made by %v, want the token grid's Transpose", ops)
	}
	// A wrong tensor name is a build error, not a broken model.
	bad := *ext
	bad.Features = "nope"
	if _, err := Build(Spec{External: &bad, Outputs: []string{Features}}); err == nil {
		t.Error("a features tensor no node computes was accepted")
	}
}
