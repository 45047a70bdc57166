package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
)

// randomEncoder writes the random-init reference encoder the way a user would.
func randomEncoder(t *testing.T) string {
	t.Helper()
	enc := filepath.Join(t.TempDir(), "random.onnx")
	code, _, errOut := runCLI(t, "graphs", "--encoder", "resnet18", "--width", "0.125", "--output-stride", "16", "--head", "none", "--size", "32", "-o", enc)
	if code != 0 {
		t.Fatalf("graphs: exit %d: %s", code, errOut)
	}
	return enc
}

const probeData = "synthetic:classes=3,size=32,n=8,val=4"

func TestEvaluateProbeCommands(t *testing.T) {
	testenv.ORTLibrary(t)
	enc := randomEncoder(t)
	cache := t.TempDir()
	for _, tc := range []struct {
		cmd  string
		args []string
		want []string
	}{
		{"linear", []string{"--epochs", "3"}, []string{"linear probe of " + enc + " (features, 64 channels) on " + probeData + ": 8 train, 4 val images, input whole",
			"1×1 conv + BatchNorm, 3 epochs (3 Adam steps, lr 0.1)", "class           IoU      Acc", "background", "mIoU ", "(4096 pixels)"}},
		{"retrieval", nil, []string{"retrieval probe of " + enc + " (features, 64 channels)", "memory bank of 32 train patches, k 30, temperature 0.02, exact cosine search", "(4096 pixels)"}},
	} {
		args := append([]string{"evaluate", tc.cmd, "--encoder", enc, "--data", probeData, "--cache", cache}, tc.args...)
		code, out, errOut := runCLI(t, args...)
		if code != 0 || errOut != "" {
			t.Fatalf("%s: exit %d, stderr %q", tc.cmd, code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s output lacks %q:\n%s", tc.cmd, w, out)
			}
		}
		// Again as JSON: the features now come from the cache, the scores are the same.
		code, js, errOut := runCLI(t, append(args, "--json")...)
		var r struct {
			Protocol string         `json:"protocol"`
			Cached   [2]bool        `json:"cached"`
			Classes  []string       `json:"classes"`
			Scores   metrics.Scores `json:"scores"`
			Params   map[string]any `json:"params"`
		}
		if err := json.Unmarshal([]byte(js), &r); code != 0 || err != nil {
			t.Fatalf("%s --json: exit %d, %v, stderr %q:\n%s", tc.cmd, code, err, errOut, js)
		}
		if r.Protocol != tc.cmd || r.Cached != [2]bool{true, true} || len(r.Classes) != 3 || r.Scores.Pixels != 4096 || !strings.Contains(out, fmt.Sprintf("mIoU %.2f ", 100*r.Scores.MIoU)) {
			t.Errorf("%s --json: %+v", tc.cmd, r)
		}
	}
}

// Both spellings of the segmentation-model protocol stay: `evaluate --model` (the default
// subcommand) and `evaluate model --model`.
func TestEvaluateModelSubcommand(t *testing.T) {
	testenv.ORTLibrary(t)
	model := exported(t, "--dynamic")
	_, a, _ := runCLI(t, "evaluate", "--model", model, "--data", "synthetic:size=32,val=2", "--json")
	code, b, errOut := runCLI(t, "evaluate", "model", "--model", model, "--data", "synthetic:size=32,val=2", "--json")
	var ra, rb struct {
		Scores metrics.Scores `json:"scores"`
	}
	if code != 0 || json.Unmarshal([]byte(a), &ra) != nil || json.Unmarshal([]byte(b), &rb) != nil || ra.Scores.Pixels != 2048 || ra.Scores.MIoU != rb.Scores.MIoU {
		t.Errorf("evaluate model: exit %d, stderr %q; scores %+v vs %+v", code, errOut, ra.Scores, rb.Scores)
	}
}

func TestEvaluateProbeErrors(t *testing.T) {
	testenv.ORTLibrary(t)
	enc := randomEncoder(t)
	corrupt := filepath.Join(t.TempDir(), "corrupt.onnx")
	os.WriteFile(corrupt, []byte("\x0a\x03abc junk"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"linear", "--encoder", corrupt, "--data", probeData}, 2, corrupt + ": not an ONNX model"},
		{[]string{"retrieval", "--encoder", corrupt, "--data", probeData}, 2, corrupt + ": not an ONNX model"},
		{[]string{"retrieval", "--encoder", filepath.Join(t.TempDir(), "none.onnx"), "--data", probeData}, 2, "none.onnx: no such file"},
		{[]string{"linear", "--encoder", enc, "--data", probeData, "--output", "logits"}, 2, `no output "logits" (it has features, low_level)`},
		{[]string{"linear", "--encoder", enc, "--data", probeData, "--epochs", "0"}, 2, "--epochs 0"},
		{[]string{"retrieval", "--encoder", enc, "--data", probeData, "--k", "0"}, 2, "--k 0"},
		{[]string{"retrieval", "--encoder", enc, "--data", probeData, "--bank-size", "3"}, 2, "bank size 3 is below one patch per train image"},
		{[]string{"retrieval", "--encoder", enc, "--data", "nosuch:x"}, 2, "unknown kind"},
	} {
		code, _, errOut := runCLI(t, append([]string{"evaluate"}, tc.args...)...)
		if code != tc.code || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want %d and one line containing %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}
