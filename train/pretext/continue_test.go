package pretext

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx"
)

// Continued pre-training from a torchvision export (BatchNorm kept): every encoder
// initializer — weights and running statistics — loads by name, the classifier is unused,
// only the projector starts fresh; after training, encoder.onnx runs in onnxruntime and
// equals the trained network.
func TestContinuedPretrainingFromTorchvision(t *testing.T) {
	fix, err := onnx.ReadFile(filepath.Join("testdata", "resnet18_w0.125_torchvision.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	bn := 0
	for _, n := range fix.Graph.Node {
		if n.GetOpType() == "BatchNormalization" {
			bn++
		}
	}
	if bn != 20 {
		t.Fatalf("the fixture has %d BatchNormalization nodes, want ResNet-18's 20 (BatchNorm kept)", bn)
	}
	o := Options{Net: Net{Encoder: graphs.ResNet18, Width: 0.125, OutputStride: 16}, Size: 32, Seed: 1, Init: fix}
	task, err := New("moco", o, tinyConfig(t, "moco"))
	if err != nil {
		t.Fatal(err)
	}
	r := task.InitReport()
	enc, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, Width: 0.125, OutputStride: 16, Outputs: []string{graphs.Features}})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, in := range enc.Graph.Initializer {
		if isFloat(in) {
			want = append(want, in.GetName())
		}
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(r.Loaded))
	if !slices.Equal(got, want) {
		t.Errorf("loaded %d initializers, want the encoder's %d\n got %v\nwant %v", len(got), len(want), got, want)
	}
	if len(r.Skipped) != 0 || r.Prefix != "" {
		t.Errorf("skipped %v (prefix %q), want none", r.Skipped, r.Prefix)
	}
	if !slices.Equal(r.Unused, []string{"fc.bias", "fc.weight"}) {
		t.Errorf("unused %v, want the classifier fc.bias, fc.weight", r.Unused)
	}
	for _, name := range r.Missing {
		if !strings.HasPrefix(name, "projector.") {
			t.Errorf("%s is missing from the file; only the projector should be", name)
		}
	}
	fi := onnx.Initializers(fix.Graph)
	start := map[string][]float32{}
	for _, name := range []string{"conv1.weight", "layer3.1.bn2.running_var"} {
		start[name], _ = onnx.Floats(fi[name])
	}

	d := buildDriver(t, task, 4, 0.05)
	m := task.(*MoCo)
	for name, v := range start {
		var cur []float32
		if p, ok := m.online.Param(name); ok {
			cur, _ = values(p)
		} else {
			for _, b := range m.online.BatchNorms() {
				if b.Var == name {
					cur = b.State.Var.Data().([]float32)
				}
			}
		}
		if !equalFloats(cur, v) {
			t.Errorf("%s does not start at the file's values", name)
		}
	}
	for _, b := range batches(t, task, 4, 2) {
		d.run(b)
	}
	files, err := task.Outputs()
	if err != nil {
		t.Fatal(err)
	}
	trained := decode(t, files[ModelFile], ModelFile)
	encoder := decode(t, files[EncoderFile], EncoderFile)
	after, _ := onnx.Floats(onnx.Initializers(encoder.Graph)["conv1.weight"])
	if equalFloats(after, start["conv1.weight"]) {
		t.Error("conv1.weight did not train")
	}
	compareWithORT(t, trained, encoder, graphs.Features)
}
