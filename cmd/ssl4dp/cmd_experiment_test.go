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
		{[]string{"experiment", grid, "--slurm", "--status"}, "--slurm and --status do not go together"},
		{[]string{"experiment", grid, "--dry-run", "--only", "x"}, "--dry-run and --only do not go together"},
		{[]string{"experiment", grid, "--partition", "gpu"}, "are for --slurm; add it"},
		{[]string{"experiment", grid, "--slurm", "--gpus-per-job=-1"}, "--gpus-per-job -1; want ≥ 0"},
		{[]string{"experiment", grid, "--slurm", "--sbatch-arg", "qos=long"}, `--sbatch-arg "qos=long": give one sbatch option`},
		{[]string{"experiment", grid, "--only", "cells/nope"}, "--only cells/nope: no stage, cell or probe of the plan"},
		{[]string{"experiment", writeGrid(t, cliGrid+"[slurm]\ngpus = 1\n"), "--dry-run"}, "unknown key slurm.gpus"},
	} {
		code, _, errText := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errText, tc.want) || strings.Count(strings.TrimSpace(errText), "\n") > 0 && !strings.Contains(errText, "Usage") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with %q", tc.args[1:], code, errText, tc.want)
		}
	}
}

// --only runs one cell (what a Slurm job runs) without writing results.md; --status shows
// it done; --report writes the table from what finished.
func TestExperimentOnlyStatusReport(t *testing.T) {
	t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", testenv.ORTLibrary(t))
	grid := writeGrid(t, cliGrid)
	out := filepath.Join(t.TempDir(), "exp")
	_, plan, _ := runCLI(t, "experiment", grid, "--out", out, "--status")
	_, cell, ok := strings.Cut(plan, "to do    cell  ")
	cell, _, _ = strings.Cut(cell, ":")
	if !ok || !strings.HasPrefix(cell, "cells/randominit/mocofcn/s1-") {
		t.Fatalf("--status before running:\n%s", plan)
	}
	if code, _, errText := runCLI(t, "experiment", grid, "--out", out, "--only", cell); code != 0 {
		t.Fatalf("--only %s: exit %d: %s", cell, code, errText)
	}
	if _, err := os.Stat(filepath.Join(out, "results.md")); err == nil {
		t.Error("--only wrote results.md")
	}
	if _, st, _ := runCLI(t, "experiment", grid, "--out", out, "--status"); !strings.Contains(st, "done     cell  "+cell) {
		t.Errorf("--status after --only:\n%s", st)
	}
	code, res, errText := runCLI(t, "experiment", grid, "--out", out, "--report")
	md, _ := os.ReadFile(filepath.Join(out, "results.md"))
	if code != 0 || !strings.Contains(res, "wrote "+filepath.Join(out, "results.md")) || !strings.Contains(string(md), "| RandomInit | — | MoCoFCN | ") ||
		strings.Contains(string(md), "Incomplete") {
		t.Errorf("--report: exit %d, %s%s\n%s", code, res, errText, md)
	}
}
