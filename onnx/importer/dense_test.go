package importer

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
)

// The default dense map of each family fixture is the tensor its classifier pools, with the
// channels and stride its architecture has (scripts/export_families.py, probed at 160×96;
// ViT at its fixed 32×32: patch 8, one class token).
func TestDenseMapsOfFamilies(t *testing.T) {
	for _, c := range []struct {
		fam, name string
		channels  int
		stride    int
		drop      int // tokens dropped; −1 for a feature map
		stages    []int
	}{
		{"convnext", "/features/features.3/features.3.0/Add_output_0", 16, 8, -1, []int{4, 8}},
		{"efficientnet", "/features/features.4/features.4.2/Mul_output_0", 32, 8, -1, []int{2, 4, 8}},
		{"mobilenet_v3", "/features/features.4/features.4.2/HardSwish_output_0", 96, 16, -1, []int{2, 4, 8, 16}},
		{"regnet", "/trunk_output/block2/block2-0/activation/Relu_output_0", 16, 8, -1, []int{2, 4, 8}},
		{"vit", "/encoder/ln/LayerNormalization_output_0", 16, 8, 1, []int{8, 8}},
	} {
		t.Run(c.fam, func(t *testing.T) {
			mp, err := onnx.ReadFile(filepath.Join(testenv.RepoRoot(t), "onnx/importer/testdata/families", c.fam+".onnx"))
			if err != nil {
				t.Fatal(err)
			}
			maps, err := DenseMaps(mp)
			if err != nil {
				t.Fatal(err)
			}
			d, err := PickDenseMap(maps, "")
			if err != nil {
				t.Fatal(err)
			}
			if d.Name != c.name || d.Channels != c.channels || d.Stride != c.stride || d.Tokens != (c.drop >= 0) || c.drop >= 0 && d.Drop != c.drop {
				t.Errorf("default %s, want %s with %d channels at stride %d (drop %d)", d, c.name, c.channels, c.stride, c.drop)
			}
			var strides []int
			for _, s := range Stages(maps) {
				strides = append(strides, s.Stride)
			}
			if !equalInts(strides, c.stages) {
				t.Errorf("stage strides %v, want %v", strides, c.stages)
			}
			// Any candidate can be picked by name; a tensor that is not one cannot.
			if p, err := PickDenseMap(maps, maps[0].Name); err != nil || p.Name != maps[0].Name {
				t.Errorf("pick %q: %v, %v", maps[0].Name, p, err)
			}
			_, err = PickDenseMap(maps, "output")
			var oe *OptionsError
			if !errors.As(err, &oe) || !strings.Contains(err.Error(), "--features") || !strings.Contains(err.Error(), c.name) {
				t.Errorf("picking the logits: %v, want an OptionsError naming --features and the stages", err)
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
