package graphs

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// Every encoder × head × output stride runs in onnxruntime at an even and an odd input
// size, with the output shapes the spec promises and that Analyze predicts, and Debian's
// onnx checker (full_check) accepts every model, and the pretext-head models too.
func TestEveryCombination(t *testing.T) {
	dir := t.TempDir()
	paths := sweep(t, 0.125, [][3]int{{2, 64, 64}, {1, 65, 97}}, dir)
	for i, pt := range []Pretext{
		{Projector: ProjectorMoCoV2, Dense: true},
		{Projector: ProjectorBYOL},
		{Projector: ProjectorSimSiam},
		{Projector: ProjectorMoCoV2, Dense: true, Rotation: true, OnDecoder: true},
	} {
		spec := Spec{Encoder: ResNet18, Width: 0.125, Pretext: pt}
		if pt.OnDecoder {
			spec.Head, spec.DecoderWidth, spec.OutputStride = HeadPSP, 16, 16
		}
		p := filepath.Join(dir, fmt.Sprintf("pretext%d.onnx", i))
		if err := onnx.WriteFile(p, mustBuild(t, spec)); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	checkModels(t, paths)
}

// The same at full width, at one small odd size to bound the time (user CPU time about
// 1.5 minutes; 9.5 minutes of wall time on a loaded two-core machine); the checker is
// skipped, as it does not depend on width.
func TestEveryCombinationFullWidth(t *testing.T) {
	testenv.Long(t, "full-width sweep; TestEveryCombination runs every combination at width 0.125")
	sweep(t, 1, [][3]int{{1, 33, 49}}, "")
}

// sweep builds and runs every combination at each N×H×W size; with dir it also writes each
// model there and returns the paths.
func sweep(t *testing.T, width float64, sizes [][3]int, dir string) []string {
	initORT(t)
	const classes = 5
	var paths []string
	for _, enc := range Encoders {
		for _, head := range Heads {
			for _, os := range []int{32, 16, 8} {
				name := fmt.Sprintf("%s_%s_os%d", enc, head, os)
				t.Run(name, func(t *testing.T) {
					spec := Spec{Encoder: enc, OutputStride: os, Width: width, Head: head, Seed: 1}
					if head != HeadNone {
						spec.Classes = classes
					}
					start := time.Now()
					m := mustBuild(t, spec)
					built := time.Since(start)
					if dir != "" {
						p := filepath.Join(dir, name+".onnx")
						if err := onnx.WriteFile(p, m); err != nil {
							t.Fatal(err)
						}
						paths = append(paths, p)
					}
					for _, sz := range sizes {
						n, h, w := sz[0], sz[1], sz[2]
						out := runORT(t, m, map[string]ort.Tensor{Input: randomInput(n, h, w, 1)})
						a, err := Analyze(m.Graph, map[string][]int{Input: {n, 3, h, w}})
						if err != nil {
							t.Fatal(err)
						}
						for _, o := range m.Graph.Output {
							got := out[o.GetName()]
							if !slices.Equal(got.Shape, ints64(a.Shapes[o.GetName()])) {
								t.Errorf("%d×%d: %s is %v, Analyze says %v", h, w, o.GetName(), got.Shape, a.Shapes[o.GetName()])
							}
							if hasNaN(got.Data.([]float32)) {
								t.Errorf("%d×%d: %s has NaN or Inf", h, w, o.GetName())
							}
						}
						want := map[string][]int64{Features: nil}
						switch {
						case head == HeadClassifier:
							want[ClassLogits] = []int64{int64(n), classes}
						case head != HeadNone:
							want[Logits] = []int64{int64(n), classes, int64(h), int64(w)}
						}
						for k, s := range want {
							got, ok := out[k]
							if !ok {
								t.Fatalf("no output %q", k)
							}
							if s != nil && !slices.Equal(got.Shape, s) {
								t.Errorf("%d×%d: %s is %v, want %v", h, w, k, got.Shape, s)
							}
						}
						fs := out[Features].Shape
						if stride := (h + os - 1) / os; fs[2] != int64(stride) && os == 32 {
							t.Errorf("%d×%d: features %v at output stride 32", h, w, fs)
						}
					}
					t.Logf("built in %v, ran in %v", built.Round(time.Millisecond), (time.Since(start) - built).Round(time.Millisecond))
				})
			}
		}
	}
	return paths
}

func hasNaN(v []float32) bool {
	for _, x := range v {
		if x != x || x > 3e38 || x < -3e38 {
			return true
		}
	}
	return false
}

// checkModels runs Debian's onnx.checker.check_model(full_check=True) on every file in one
// Python process (one process per model would cost a second each).
func checkModels(t *testing.T, paths []string) {
	t.Helper()
	py := testenv.PythonONNX(t)
	out, err := exec.Command(py, append([]string{"-c", `import sys, onnx
bad = 0
for p in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(p), full_check=True)
    except Exception as e:
        bad += 1
        print(p, e)
print("checked", len(sys.argv) - 1, "bad", bad)
sys.exit(1 if bad else 0)`}, paths...)...).CombinedOutput()
	if err != nil || !strings.Contains(string(out), fmt.Sprintf("checked %d bad 0", len(paths))) {
		t.Fatalf("onnx.checker: %v\n%s", err, out)
	}
}
