package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
)

func TestPlot(t *testing.T) {
	// Copy the fixture run so that the default output lands in a temporary folder.
	run := t.TempDir()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "train", "plot", "testdata", "run", "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(run, "metrics.jsonl"), data, 0o644)

	code, out, errOut := runCLI(t, "plot", run)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "curves.png: 300 training steps, 6 validations (the last line was incomplete and is left out)") {
		t.Errorf("output %q", out)
	}
	f, err := os.Open(filepath.Join(run, "curves.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if cfg, err := png.DecodeConfig(f); err != nil || cfg.Width != 1000 || cfg.Height != 900 {
		t.Errorf("curves.png: %dx%d, %v", cfg.Width, cfg.Height, err)
	}

	other := filepath.Join(t.TempDir(), "c.png")
	if code, _, errOut := runCLI(t, "plot", filepath.Join(run, "metrics.jsonl"), "-o", other, "--width", "500"); code != 0 {
		t.Fatalf("plot FILE -o: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(other); err != nil {
		t.Error(err)
	}
}

func TestPlotErrors(t *testing.T) {
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "metrics.jsonl"), []byte("{\"kind\":\"train\",\"step\":0,\"loss\":1}\ngarbage\n{}\n"), 0o644)
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "metrics.jsonl"), nil, 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"plot", filepath.Join(t.TempDir(), "nothing-here")}, 2, "no such file"},
		{[]string{"plot", bad}, 2, "metrics.jsonl line 2"},
		{[]string{"plot", empty}, 1, "no training records"},
	} {
		code, _, errOut := runCLI(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}
