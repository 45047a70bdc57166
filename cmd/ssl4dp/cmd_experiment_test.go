package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
)

const cliGrid = `
title = "cli"
data = "synthetic:size=32,n=16,val=4,classes=3"
seeds = [1]

[finetune]
encoder = "resnet18"
width = 0.125
crop = 32
batch = 4
iters = 2
val-every = 0

[evaluate]
overlays = -1

[[head]]
name = "MoCoFCN"
head = "fcn"

[[row]]
name = "RandomInit"

[[row]]
name = "Supervised"
init = ""
`

func writeGrid(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "grid.toml")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestExperimentRunsAGrid(t *testing.T) {
	t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", testenv.ORTLibrary(t))
	grid := writeGrid(t, cliGrid)
	out := filepath.Join(t.TempDir(), "exp")
	code, plan, errText := runCLI(t, "experiment", grid, "--out", out, "--dry-run")
	if code != 0 {
		t.Fatalf("--dry-run: exit %d: %s", code, errText)
	}
	for _, want := range []string{"0 pre-training stages and 1 cells", "to do    cell  cells/randominit/mocofcn/s1-",
		`skipped  row "Supervised": no checkpoint given`} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("--dry-run created the experiment folder")
	}
	code, res, errText := runCLI(t, "experiment", grid, "--out", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errText)
	}
	for _, want := range []string{"# cli", "| RandomInit | — | MoCoFCN | ", "| Supervised | — | — | — | skipped: no checkpoint given",
		"wrote " + filepath.Join(out, "results.md") + " and " + filepath.Join(out, "results.png")} {
		if !strings.Contains(res, want) {
			t.Errorf("output lacks %q:\n%s", want, res)
		}
	}
	if _, plan, _ = runCLI(t, "experiment", grid, "--out", out, "--dry-run"); !strings.Contains(plan, "done     cell") {
		t.Errorf("after the run the plan says:\n%s", plan)
	}
}

func TestExperimentUsageErrors(t *testing.T) {
	grid := writeGrid(t, cliGrid)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"experiment", filepath.Join(t.TempDir(), "none.toml")}, "none.toml"},
		{[]string{"experiment", writeGrid(t, "bogus = 1\n"+cliGrid)}, "unknown key bogus"},
		{[]string{"experiment", writeGrid(t, strings.Replace(cliGrid, "width = 0.125", "width = \"wide\"", 1)), "--dry-run"}, "--width"},
		{[]string{"experiment", grid, "--init", "Supervised"}, `--init "Supervised"; want ROW=FILE.onnx`},
		{[]string{"experiment", grid, "--init", "Nobody=x.onnx", "--dry-run"}, `no row is called "Nobody"`},
		{[]string{"experiment", grid, "--init", "Supervised=" + filepath.Join(t.TempDir(), "missing.onnx"), "--dry-run"}, "missing.onnx"},
	} {
		code, _, errText := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errText, tc.want) || strings.Count(strings.TrimSpace(errText), "\n") > 0 && !strings.Contains(errText, "Usage") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with %q", tc.args[1:], code, errText, tc.want)
		}
	}
}
