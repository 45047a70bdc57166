package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
)

// exported writes exportRun's model through `ssl4dp export` with extra flags.
func exported(t *testing.T, flags ...string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "seg.onnx")
	code, _, errOut := runCLI(t, append(append([]string{"export", "--from", exportRun(t), "--size", "32"}, flags...), out)...)
	if code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	return out
}

func TestEvaluateCommand(t *testing.T) {
	testenv.ORTLibrary(t)
	model := exported(t, "--dynamic")
	ov := filepath.Join(t.TempDir(), "overlays")
	const spec = "synthetic:size=32,val=5"
	code, out, errOut := runCLI(t, "evaluate", "--model", model, "--data", spec, "--batch", "2", "--save-overlays", ov, "--overlays", "3")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for _, want := range []string{"on synthetic:classes=6,size=32,n=2048,val=5,seed=1,objects=4 (val): 5 images, whole images, onnxruntime 1.30.0 (cpu)",
		"class           IoU      Acc", "triangle", "mIoU ", "(5120 pixels)", "3 PNGs in " + ov} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if pngs, _ := filepath.Glob(filepath.Join(ov, "*.png")); len(pngs) != 3 {
		t.Errorf("%d overlays in %s, want 3", len(pngs), ov)
	}

	code, out, _ = runCLI(t, "evaluate", "--model", model, "--data", spec, "--size", "24", "--json")
	var r struct {
		Images   int            `json:"images"`
		Input    string         `json:"input"`
		Classes  []string       `json:"classes"`
		Scores   metrics.Scores `json:"scores"`
		MeanStd  [2][3]float32  `json:"mean_std"`
		Provider string         `json:"provider"`
	}
	if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	if r.Images != 5 || r.Input != "24x24" || len(r.Classes) != 6 || len(r.Scores.IoU) != 6 || r.Scores.Pixels != 5120 || r.MeanStd[0][0] != 123.675 || r.Provider != "cpu" {
		t.Errorf("report %+v", r)
	}
}

// A model exported at a fixed size is evaluated at that size by default and refuses --whole.
func TestEvaluateFixedSize(t *testing.T) {
	testenv.ORTLibrary(t)
	model := exported(t, "--batch", "2")
	code, out, errOut := runCLI(t, "evaluate", "--model", model, "--data", "synthetic:size=40,val=3", "--batch", "3")
	if code != 0 || !strings.Contains(out, "images resized to 32×32") {
		t.Errorf("fixed size: exit %d, %q\n%s", code, errOut, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--whole"}, "has a fixed input size 32x32; --whole needs dynamic H and W"},
		{[]string{"--size", "64"}, "--size 64 would not fit"},
	} {
		code, _, errOut := runCLI(t, append([]string{"evaluate", "--model", model, "--data", "synthetic:size=40,val=3"}, tc.args...)...)
		if code != 2 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q", tc.args, code, errOut)
		}
	}
}

// A corrupt model, a model for another class count, bad flags: exit 2 with one line.
func TestEvaluateErrors(t *testing.T) {
	testenv.ORTLibrary(t)
	model := exported(t, "--dynamic")
	corrupt := filepath.Join(t.TempDir(), "corrupt.onnx")
	os.WriteFile(corrupt, []byte("\x0a\x03abc junk"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--model", corrupt, "--data", "synthetic"}, 2, corrupt + ": not an ONNX model"},
		{[]string{"--model", model, "--data", "synthetic:classes=4,size=32,val=2"}, 2, "predicts 6 classes, but synthetic:classes=4,size=32,n=2048,val=2,seed=1,objects=4 (val) has 4 (background, disc, square, triangle)"},
		{[]string{"--model", model, "--data", "synthetic", "--size", "32", "--whole"}, 2, "--size and --whole can't be used together"},
		{[]string{"--model", model, "--data", "nosuch:x"}, 2, "unknown kind"},
		{[]string{"--model", model, "--data", "synthetic", "--batch", "0"}, 2, "--batch 0"},
		{[]string{"--model", model, "--data", "synthetic", "--provider", "cuda"}, 1, "has no CUDA provider"},
	} {
		code, _, errOut := runCLI(t, append([]string{"evaluate"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want %d and one line containing %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}
