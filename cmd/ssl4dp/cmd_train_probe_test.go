package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/train/pretext"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// --probe-every scores the online encoder by retrieval between steps: one "probe" record per
// probe in metrics.jsonl (which runlog still reads), a line in the progress output, and the
// same trained weights, bit for bit, as a run without it.
func TestTrainPretextProbeEvery(t *testing.T) {
	testenv.ORTLibrary(t)
	dir := t.TempDir()
	plain, probed := filepath.Join(dir, "plain"), filepath.Join(dir, "probed")
	if code, _, errOut := runCLI(t, pretextArgs("moco", plain)...); code != 0 {
		t.Fatalf("run without the probe: exit %d\n%s", code, errOut)
	}
	code, _, errOut := runCLI(t, append(pretextArgs("moco", probed), "--probe-every", "2", "--probe-limit", "6")...)
	if code != 0 {
		t.Fatalf("run with the probe: exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"retrieval probe every 2 steps on synthetic:size=48,n=32", "probe after step 2: probe_miou "} {
		if !strings.Contains(errOut, want) {
			t.Errorf("output lacks %q:\n%s", want, errOut)
		}
	}
	a, _ := os.ReadFile(filepath.Join(plain, pretext.EncoderFile))
	b, _ := os.ReadFile(filepath.Join(probed, pretext.EncoderFile))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("encoder.onnx differs with the probe (%d vs %d bytes): the probe must not change training", len(a), len(b))
	}
	raw, err := os.ReadFile(filepath.Join(probed, runlog.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var probes []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("metrics.jsonl line %q: %v", line, err)
		}
		if m["kind"] == "probe" {
			probes = append(probes, m)
		}
	}
	// 3 steps, every 2: one probe, after step 2 (index 1).
	if len(probes) != 1 || probes[0]["step"] != 1.0 {
		t.Fatalf("probe records %v, want one at step index 1", probes)
	}
	if v, ok := probes[0][pretext.KeyProbeMIoU].(float64); !ok || v < 0 || v > 1 {
		t.Errorf("probe_miou %v, want a fraction", probes[0][pretext.KeyProbeMIoU])
	}
	lg, err := runlog.Read(bytes.NewReader(raw), runlog.FileName)
	if err != nil || len(lg.Train) != 3 {
		t.Fatalf("runlog reads %v train records, err %v; want 3 (probe records skipped)", len(lg.Train), err)
	}
	// The probe's wrapper keeps the task's monitors.
	if _, ok := lg.Train[2].Monitors["top1"]; !ok {
		t.Errorf("with the probe, metrics.jsonl has no top1 monitor: %+v", lg.Train[2])
	}
	// The other task kinds (dense queue, twin networks): the same weights with the probe.
	for _, method := range []string{"plmoco", "byol", "plr"} {
		p, q := filepath.Join(dir, method+"-plain"), filepath.Join(dir, method+"-probed")
		if code, _, errOut := runCLI(t, pretextArgs(method, p)...); code != 0 {
			t.Fatalf("%s: exit %d\n%s", method, code, errOut)
		}
		if code, _, errOut := runCLI(t, append(pretextArgs(method, q), "--probe-every", "1", "--probe-limit", "4")...); code != 0 {
			t.Fatalf("%s with the probe: exit %d\n%s", method, code, errOut)
		}
		a, _ := os.ReadFile(filepath.Join(p, pretext.ModelFile))
		b, _ := os.ReadFile(filepath.Join(q, pretext.ModelFile))
		if len(a) == 0 || !bytes.Equal(a, b) {
			t.Errorf("%s: model.onnx differs with the probe", method)
		}
	}
	code, _, errOut = runCLI(t, append(pretextArgs("moco", filepath.Join(dir, "bad")), "--probe-every", "2", "--probe-data", "nosuch:x")...)
	if code != 2 || !strings.Contains(errOut, "--probe-data nosuch:x") {
		t.Errorf("bad --probe-data: exit %d, %q", code, errOut)
	}
}
