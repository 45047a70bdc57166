package bench

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// tinyModel is a 4,082-parameter torchvision ResNet exported by PyTorch 1.13 (input
// [N,3,H,W], output [N,10]); onnx/testdata says how it was made.
func tinyModel(t *testing.T) string {
	return filepath.Join(testenv.RepoRoot(t), "onnx", "testdata", "tiny_torchvision.onnx")
}

// fixedModel is tinyModel with its input fixed at 2×3×24×24.
func fixedModel(t *testing.T) string {
	t.Helper()
	m, err := onnx.ReadFile(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	d := func(v int64) onnx.Dim { return onnx.Dim{Value: v} }
	m.Graph.Input = []*pb.ValueInfoProto{onnx.ValueInfo("input", pb.TensorProto_FLOAT, d(2), d(3), d(24), d(24))}
	m.Graph.Output = []*pb.ValueInfoProto{onnx.ValueInfo("output", pb.TensorProto_FLOAT, d(2), d(10))}
	p := filepath.Join(t.TempDir(), "fixed.onnx")
	if err := onnx.WriteFile(p, m); err != nil {
		t.Fatal(err)
	}
	return p
}

// checkSummary checks the order every Summary must have.
func checkSummary(t *testing.T, what string, s Summary, n int) {
	t.Helper()
	if s.N != n {
		t.Errorf("%s: %d samples, want %d", what, s.N, n)
	}
	if !(s.Min > 0 && s.Min <= s.P50 && s.P50 <= s.P90 && s.P90 <= s.P99 && s.P99 <= s.Max && s.Min <= s.Mean && s.Mean <= s.Max && s.Std >= 0) {
		t.Errorf("%s: summary out of order: %+v", what, s)
	}
}

func near(a, b, rel float64) bool { return math.Abs(a-b) <= rel*math.Max(math.Abs(a), math.Abs(b)) }
