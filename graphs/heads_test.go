package graphs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// Each segmentation head, with the weights of a PyTorch model written after MMSegmentation's
// head (scripts/gen_graphs_golden.py: same module names, so every initializer must match by
// name and shape in both directions), gives PyTorch's logits — bilinearly resized to the
// odd-sized input, compared at every 4th pixel — within 1e-5. The PSP case at output stride 16 pools a 3×4 map into 6
// bins (overlapping bins); DeepLabv3+ at stride 8 doubles its rates.
func TestHeadsMatchPyTorch(t *testing.T) {
	initORT(t)
	dir := filepath.Join("testdata", "heads")
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		parityCase
		Head    Head   `json:"head"`
		Weights string `json:"weights"`
	}
	if err := json.Unmarshal(data, &cases); err != nil || len(cases) == 0 {
		t.Fatalf("manifest: %v (%d cases)", err, len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			ours := mustBuild(t, Spec{Encoder: c.Encoder, Width: c.Width, OutputStride: c.OutputStride, Head: c.Head,
				Classes: c.Classes, Outputs: []string{Logits}})
			raw, err := os.ReadFile(filepath.Join(dir, c.Weights))
			if err != nil {
				t.Fatal(err)
			}
			var weights pb.ModelProto // initializers only: not a runnable model, so not onnx.Decode
			if err := proto.Unmarshal(raw, &weights); err != nil {
				t.Fatal(err)
			}
			copyInitializers(t, ours.Graph, weights.Graph)
			shape, x := readTensor(t, filepath.Join(dir, c.Tensors["input"]))
			got := every4th(runORT(t, ours, map[string]ort.Tensor{Input: {Shape: shape, Data: x}})[Logits])
			wantShape, want := readTensor(t, filepath.Join(dir, c.Tensors["logits"]))
			if !slices.Equal(got.Shape, wantShape) {
				t.Fatalf("logits[:, :, ::4, ::4] %v, PyTorch's %v", got.Shape, wantShape)
			}
			// Observed ≤ 1.1e-6; halving DeepLabv3+'s OS8 rates gives 1.1e-3.
			if e := relErr(got.Data.([]float32), want); e > 1e-5 {
				t.Errorf("logits vs PyTorch: relative error %.2g > 1e-5", e)
			}
		})
	}
}

// every4th is x[:, :, ::4, ::4] (the golden files keep only those pixels).
func every4th(x ort.Tensor) ort.Tensor {
	n, c, h, w := int(x.Shape[0]), int(x.Shape[1]), int(x.Shape[2]), int(x.Shape[3])
	h4, w4 := (h+3)/4, (w+3)/4
	in, out := x.Data.([]float32), make([]float32, 0, n*c*h4*w4)
	for p := range n * c {
		for y := 0; y < h; y += 4 {
			for xx := 0; xx < w; xx += 4 {
				out = append(out, in[(p*h+y)*w+xx])
			}
		}
	}
	return ort.Tensor{Shape: []int64{int64(n), int64(c), int64(h4), int64(w4)}, Data: out}
}
