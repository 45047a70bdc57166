package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/export/modelinfo"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
)

// exportRun writes a run folder as `ssl4dp train` leaves it: model.onnx (a small segmentation
// network with 6 classes) and run.json.
func exportRun(t *testing.T) string {
	t.Helper()
	m, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, OutputStride: 16, Width: 0.125, Head: graphs.HeadFCN, Classes: 6, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := onnx.WriteFile(filepath.Join(dir, "model.onnx"), m); err != nil {
		t.Fatal(err)
	}
	run := `{"method": "seg", "data": "synthetic:size=32", "classes": ["background", "disc", "square", "triangle", "ring", "cross"],
  "mean": [123.675, 116.28, 103.53], "std": [58.395, 57.12, 57.375], "steps": 40, "seed": 3, "final_metrics": {"miou": 0.25},
  "task": {"encoder": "resnet18", "crop": 40}}`
	if err := os.WriteFile(filepath.Join(dir, "run.json"), []byte(run), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestExportCommand(t *testing.T) {
	testenv.ORTLibrary(t)
	run := exportRun(t)
	out := filepath.Join(t.TempDir(), "seg.onnx")
	code, stdout, errOut := runCLI(t, "export", "--from", run, "--dynamic", "--size", "32", "--fold-bn", "--opset", "17", out)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"wrote " + out + ": input [N 3 H W] → logits float [N 6 H W], opset 17",
		"BatchNorm: 22 folded into convolutions, 0 kept", "at input [2 3 32 32]: max relative error", "at input [1 3 49 55]",
		"metadata: classes, data, mean, method, metrics, num_classes, output, seed, source, std, steps, version"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	m, err := onnx.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// Without --size a static export takes the run's training crop.
	static := filepath.Join(t.TempDir(), "static.onnx")
	if code, stdout, errOut := runCLI(t, "export", "--from", run, static); code != 0 || !strings.Contains(stdout, "input [1 3 40 40] → logits float [1 6 40 40], opset 13") {
		t.Errorf("static export: exit %d, %q\n%s", code, errOut, stdout)
	}
	info, err := modelinfo.Read(m)
	if err != nil || info.NumClasses != 6 || info.Classes[5] != "cross" || info.Steps != 40 || info.Method != "seg" || info.Source != run {
		t.Errorf("metadata %+v (%v)", info, err)
	}
}

// A failed check, a bad flag or a bad source leaves an existing file untouched and exits ≠ 0
// with one line.
func TestExportCommandErrors(t *testing.T) {
	testenv.ORTLibrary(t)
	run := exportRun(t)
	out := filepath.Join(t.TempDir(), "seg.onnx")
	old := []byte("the previous export")
	if err := os.WriteFile(out, old, 0o644); err != nil {
		t.Fatal(err)
	}
	corrupt := filepath.Join(t.TempDir(), "corrupt.onnx")
	os.WriteFile(corrupt, []byte("junk"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--from", run, "--size", "32", "--tol", "1e-12"}, 1, "export: not written: at input [1 3 32 32] onnxruntime's output differs from Gorgonia's"},
		{[]string{"--from", run, "--what", "encoder", "--argmax"}, 2, "argmax applies to segmentation logits"},
		{[]string{"--from", run, "--opset", "12"}, 2, "opset 12; want 13–17"},
		{[]string{"--from", corrupt}, 2, "not an ONNX model"},
		{[]string{"--from", filepath.Join(run, "nothing")}, 2, "no such file or folder"},
		{[]string{"--from", run, "--what", "mask"}, 2, "--what must be one of"},
	} {
		code, _, errOut := runCLI(t, append([]string{"export"}, append(tc.args, out)...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want %d and one line containing %q", tc.args, code, errOut, tc.code, tc.want)
		}
		if b, _ := os.ReadFile(out); !bytes.Equal(b, old) {
			t.Fatalf("%v: the existing file was changed", tc.args)
		}
	}
	code, _, errOut := runCLI(t, "export", "--from", run, filepath.Join(run, "model.onnx"))
	if code != 2 || !strings.Contains(errOut, "is the trained model itself") {
		t.Errorf("export onto its source: exit %d, %q", code, errOut)
	}
}

// Without onnxruntime, export and evaluate fail with one line that says how to get it. The
// library is process-wide, so this runs in a child process that has none.
func TestNoORT(t *testing.T) {
	if os.Getenv("SSL4DP_TEST_NO_ORT") == "1" {
		model := filepath.Join(t.TempDir(), "m.onnx")
		for _, args := range [][]string{
			{"export", "--from", tinyModel(t), model},
			{"evaluate", "--model", tinyModel(t), "--data", "synthetic"},
		} {
			code, _, errOut := runCLI(t, args...)
			if code == 0 || !strings.Contains(errOut, "onnxruntime shared library not found") || !strings.Contains(errOut, "just setup") || strings.Count(errOut, "\n") != 1 {
				t.Errorf("%s without onnxruntime: exit %d, stderr %q", args[0], code, errOut)
			}
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNoORT$", "-test.v")
	cmd.Env = append(os.Environ(), "SSL4DP_TEST_NO_ORT=1", "ONNXRUNTIME_SHARED_LIBRARY_PATH=", "SSL4DP_CACHE="+t.TempDir(), "LD_LIBRARY_PATH=")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNoORT") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
