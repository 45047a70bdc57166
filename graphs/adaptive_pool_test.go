package graphs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// AdaptiveAvgPool2d equals torch's F.adaptive_avg_pool2d at odd sizes, sizes smaller than the
// bin count (overlapping bins) and 1×1, in one model per bin count that serves every size.
func TestAdaptiveAvgPoolMatchesTorch(t *testing.T) {
	initORT(t)
	dir := filepath.Join("testdata", "adaptive_pool")
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Input  string `json:"input"`
		Bins   int    `json:"bins"`
		Output string `json:"output"`
	}
	if err := json.Unmarshal(data, &cases); err != nil || len(cases) == 0 {
		t.Fatalf("manifest: %v (%d cases)", err, len(cases))
	}
	for _, c := range cases {
		t.Run(c.Output, func(t *testing.T) {
			b := NewBuilder(0)
			x := b.Input("x", onnx.Dim{Param: "N"}, onnx.Dim{Param: "C"}, onnx.Dim{Param: "H"}, onnx.Dim{Param: "W"})
			b.Output(b.AdaptiveAvgPool2d("pool", x, c.Bins), onnx.Dim{Param: "N"}, onnx.Dim{Param: "C"}, onnx.Dim{Value: int64(c.Bins)}, onnx.Dim{Value: int64(c.Bins)})
			g, err := b.Graph("pool")
			if err != nil {
				t.Fatal(err)
			}
			m, err := onnx.NewModel(g, Opset)
			if err != nil {
				t.Fatal(err)
			}
			xs, xv := readTensor(t, filepath.Join(dir, c.Input))
			ws, want := readTensor(t, filepath.Join(dir, c.Output))
			got := runORT(t, m, map[string]ort.Tensor{"x": {Shape: xs, Data: xv}})["pool"]
			if !slices.Equal(got.Shape, ws) {
				t.Fatalf("shape %v, torch's %v", got.Shape, ws)
			}
			if e := relErr(got.Data.([]float32), want); e > 1e-6 {
				t.Errorf("relative error %.2g vs torch", e)
			}
			a, err := Analyze(g, map[string][]int{"x": toInts(xs)})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ints64(a.Shapes["pool"]), ws) {
				t.Errorf("Analyze says %v, onnxruntime gives %v", a.Shapes["pool"], ws)
			}
			for _, n := range g.Node {
				if !poolOps[n.GetOpType()] {
					t.Errorf("node %s uses op %s, outside the set the importer folds", n.GetName(), n.GetOpType())
				}
			}
		})
	}
}

// poolOps are the ops the brief allows in shape subgraphs, plus the pooling itself.
var poolOps = map[string]bool{"Shape": true, "Gather": true, "Slice": true, "Concat": true, "Unsqueeze": true,
	"Squeeze": true, "Cast": true, "Range": true, "Add": true, "Sub": true, "Mul": true, "Div": true, "Floor": true,
	"Ceil": true, "Less": true, "GreaterOrEqual": true, "And": true, "ReduceSum": true, "Reshape": true,
	"Transpose": true, "MatMul": true, "GlobalAveragePool": true}

func toInts(s []int64) []int {
	out := make([]int, len(s))
	for i, v := range s {
		out[i] = int(v)
	}
	return out
}
