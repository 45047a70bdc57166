package graphs

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
)

// The trainable parameter counts and multiply-accumulates at 224×224 that torchvision's
// model table gives (its "GFLOPS" column is GMACs: 1.81, 3.66, 4.09).
var torchvisionCounts = []struct {
	enc    Encoder
	params int64
	gmacs  string
}{
	{ResNet18, 11_689_512, "1.814"},
	{ResNet34, 21_797_672, "3.664"},
	{ResNet50, 25_557_032, "4.089"},
}

// The classifier models' initializers are torchvision's state_dict, names, shapes and order
// (golden lists from scripts/gen_graphs_golden.py), and their sizes are torchvision's.
func TestTorchvisionNamesAndCounts(t *testing.T) {
	for _, c := range torchvisionCounts {
		t.Run(string(c.enc), func(t *testing.T) {
			m := mustBuild(t, Spec{Encoder: c.enc, Head: HeadClassifier, Classes: 1000})
			var got []string
			for _, init := range m.Graph.Initializer {
				got = append(got, fmt.Sprintf("%s %s", init.GetName(), strings.Trim(strings.Join(strings.Fields(fmt.Sprint(init.Dims)), ","), "[]")))
			}
			want := readGoldenNames(t, filepath.Join("testdata", "torchvision_"+string(c.enc)+".txt"))
			if len(got) != len(want) {
				t.Errorf("%d initializers, torchvision has %d", len(got), len(want))
			}
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("initializer %d is %q, torchvision's is %q", i, got[i], want[i])
				}
			}
			s := onnx.Summarize(m)
			if s.Params != c.params || len(s.Tied) != 0 {
				t.Errorf("trainable parameters = %d (tied %v), want %d", s.Params, s.Tied, c.params)
			}
			cost, err := Measure(m, 1, 224, 224)
			if err != nil {
				t.Fatal(err)
			}
			if g := fmt.Sprintf("%.3f", float64(cost.MACs)/1e9); g != c.gmacs {
				t.Errorf("GMACs at 224 = %s, torchvision's table says %s", g, c.gmacs)
			}
			if !slices.Equal(cost.Outputs[ClassLogits], []int{1, 1000}) || !slices.Equal(cost.Outputs[Features][2:], []int{7, 7}) {
				t.Errorf("output shapes %v", cost.Outputs)
			}
		})
	}
}

func readGoldenNames(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}
