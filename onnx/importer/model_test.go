package importer

import (
	"path/filepath"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops"
)

func TestTinyTorchvisionForward(t *testing.T) {
	mp, err := onnx.ReadFile(filepath.Join(testenv.RepoRoot(t), "onnx/testdata/tiny_torchvision.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	feeds := map[string]feed{"input": randFeed(3, 2, 3, 32, 32)}
	// The export lists BatchNorm's running-statistic outputs, so onnxruntime runs it in
	// training mode (batch statistics); its inference form runs with running statistics.
	compareORTModel(t, mp, mp, feeds, Options{Phase: &ops.Phase{Training: true}}, 1e-5)
	inf, err := InferenceForm(mp)
	if err != nil {
		t.Fatal(err)
	}
	compareORTModel(t, mp, inf, feeds, Options{}, 1e-5)
}
