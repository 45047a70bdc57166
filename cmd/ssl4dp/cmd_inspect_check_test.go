package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
)

// inspect --check and --train-check (the importer issue's CLI). The numbers themselves are
// tested in onnx/importer/check; these tests pin the flags, the output and the exit codes.

func TestInspectCheck(t *testing.T) {
	testenv.ORTLibrary(t)
	code, out, errOut := runCLI(t, "inspect", tinyModel(t), "--check", "--train-check", "--samples", "4", "--input-shape", "input=2,3,32,32")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"check: importer (Gorgonia, evaluation mode) vs onnxruntime", "input [2 3 32 32]", "output [2 10]", "train-check: 4 parameter gradients"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "  ok") != 5 {
		t.Errorf("want 5 ok lines (1 output, 4 gradients):\n%s", out)
	}
}

func TestInspectCheckFailures(t *testing.T) {
	testenv.ORTLibrary(t)
	code, _, errOut := runCLI(t, "inspect", tinyModel(t), "--check", "--tol", "1e-15")
	if code != 1 || !strings.Contains(errOut, `output "output": relative error`) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("above --tol: exit %d, stderr %q; want 1 and one line naming the output", code, errOut)
	}
	code, _, errOut = runCLI(t, "inspect", tinyModel(t), "--check", "--input-shape", "input=1,3")
	if code != 2 || !strings.Contains(errOut, "rank 2") {
		t.Errorf("bad shape: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = runCLI(t, "inspect", tinyModel(t), "--check", "--input-shape", "input=1,x")
	if code != 2 || !strings.Contains(errOut, "want NAME=N,C,H,W") {
		t.Errorf("unparsable shape: exit %d, stderr %q", code, errOut)
	}
	m, err := onnx.ReadFile(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	op := "Selu"
	m.Graph.Node[2].OpType = &op
	p := filepath.Join(t.TempDir(), "selu.onnx")
	if err := onnx.WriteFile(p, m); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCLI(t, "inspect", p, "--check")
	if code != 1 || !strings.Contains(errOut, `(Selu, opset 13): op type Selu not supported`) {
		t.Errorf("unsupported op: exit %d, stderr %q", code, errOut)
	}
}

// --check lists the dense maps `train --init` can take (each stride's last map), marks the
// default, and for a ViT says the tokens become a grid; --json carries them too.
func TestInspectCheckDenseMaps(t *testing.T) {
	testenv.ORTLibrary(t)
	vit := filepath.Join(testenv.RepoRoot(t), "onnx/importer/testdata/families/vit.onnx")
	code, out, errOut := runCLI(t, "inspect", vit, "--check")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"dense maps (train pretext|seg --init", "    stride 8     16 channels  /conv_proj/Conv_output_0 (Conv)",
		"  * stride 8     16 channels  /encoder/ln/LayerNormalization_output_0 (LayerNormalization) tokens: drops 1, 4×4 grid"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "warning:") {
		t.Errorf("a LayerNorm network is not a folded-BatchNorm one:\n%s", out)
	}
	code, out, _ = runCLI(t, "inspect", vit, "--check", "--json")
	if code != 0 || !strings.Contains(out, `"dense_maps"`) || !strings.Contains(out, `"default": true`) {
		t.Errorf("--json: exit %d, no dense_maps with a default:\n%s", code, out)
	}
}
