package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
)

// runCLI runs the command line as main would and returns its exit code and output.
func runCLI(t *testing.T, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	oldOut, oldErr := stdout, stderr
	stdout, stderr = &o, &e
	defer func() { stdout, stderr = oldOut, oldErr }()
	code = run(args)
	return code, o.String(), e.String()
}

func tinyModel(t *testing.T) string {
	return filepath.Join(testenv.RepoRoot(t), "onnx", "testdata", "tiny_torchvision.onnx")
}

func TestInspectText(t *testing.T) {
	code, out, errOut := runCLI(t, "inspect", tinyModel(t))
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	// 4,082 = conv1 216 + bn1 16 + block convs 1152+2304 + their BNs 32+32 + downsample
	// 128+32 + fc 160+10; the 112 buffer values are the four BatchNorms' running mean/var.
	for _, want := range []string{
		"IR version 7, opsets: ai.onnx 13, producer: pytorch 1.13.0",
		"input FLOAT [N 3 H W]",
		"output FLOAT [N 10]",
		"trainable parameters: 4,082 (15.9 KiB)",
		"buffers: 112 values",
		"ops (16 nodes):",
		"BatchNormalization     4",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "warning") {
		t.Errorf("the fixture has distinct initializers, yet:\n%s", out)
	}
}

func TestInspectJSON(t *testing.T) {
	code, out, _ := runCLI(t, "inspect", "--json", tinyModel(t))
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	var r struct {
		File   string           `json:"file"`
		IR     int64            `json:"ir_version"`
		Opsets map[string]int64 `json:"opsets"`
		Params int64            `json:"trainable_parameters"`
		Bytes  int64            `json:"trainable_bytes"`
		Buf    int64            `json:"buffer_values"`
		Ops    []onnx.OpCount   `json:"ops"`
		Inputs []onnx.ValueSummary
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if r.File != tinyModel(t) || r.IR != 7 || r.Opsets["ai.onnx"] != 13 || r.Params != 4082 || r.Bytes != 4*4082 || r.Buf != 112 {
		t.Errorf("report = %+v", r)
	}
	if len(r.Ops) != 8 || r.Ops[0] != (onnx.OpCount{Op: "BatchNormalization", Count: 4}) {
		t.Errorf("ops = %+v", r.Ops)
	}
	if len(r.Inputs) != 1 || strings.Join(r.Inputs[0].Shape, ",") != "N,3,H,W" {
		t.Errorf("inputs = %+v", r.Inputs)
	}
	// Stable: the same model gives the same bytes (maps are written in key order).
	for i := 0; i < 3; i++ {
		if _, again, _ := runCLI(t, "inspect", "--json", tinyModel(t)); again != out {
			t.Fatal("two --json runs differ")
		}
	}
}

func TestInspectWarnsAboutTiedInitializers(t *testing.T) {
	m, err := onnx.ReadFile(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	// What PyTorch's exporter does to equal-valued BatchNorm scales: one shared initializer.
	for _, n := range m.Graph.Node {
		if n.GetOpType() == "BatchNormalization" {
			n.Input[1] = "bn1.weight"
		}
	}
	path := filepath.Join(t.TempDir(), "tied.onnx")
	if err := onnx.WriteFile(path, m); err != nil {
		t.Fatal(err)
	}
	_, out, _ := runCLI(t, "inspect", path)
	for _, want := range []string{"warning: 1 trainable initializers feed more than one node", "bn1.weight", "PyTorch's ONNX exporter merges", "Fix: re-export with distinct values"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	_, js, _ := runCLI(t, "inspect", "--json", path)
	if !strings.Contains(js, `"tied_initializers": [`) {
		t.Errorf("--json lacks tied_initializers:\n%s", js)
	}
}

// Bad input exits 2 with one line that names the file — never a panic or goroutine dump.
func TestInspectBadFiles(t *testing.T) {
	good, err := os.ReadFile(tinyModel(t))
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	dir := t.TempDir()
	files := map[string][]byte{
		"truncated.onnx": good[:len(good)*2/3],
		"random.onnx":    random,
		"empty.onnx":     {},
		"text.onnx":      []byte("ir_version: 8\n"),
	}
	paths := []string{filepath.Join(dir, "missing.onnx"), filepath.Join(dir, "a-folder.onnx")}
	if err := os.Mkdir(paths[1], 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	for _, p := range paths {
		for _, args := range [][]string{{"inspect", p}, {"inspect", "--json", p}} {
			code, out, errOut := runCLI(t, args...)
			if code != 2 {
				t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errOut)
			}
			if strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, p) || !strings.HasPrefix(errOut, "ssl4dp: onnx: ") {
				t.Errorf("%v: stderr should be one line naming the file, got %q", args, errOut)
			}
			if strings.Contains(errOut, "panic") || strings.Contains(errOut, "goroutine") || out != "" {
				t.Errorf("%v: stdout %q stderr %q", args, out, errOut)
			}
		}
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "version", "--ort-lib", filepath.Join(t.TempDir(), "nope.so"))
	if code != 0 || !strings.HasPrefix(out, "ssl4dp ") || !strings.Contains(out, "onnxruntime: unavailable: ort: ") {
		t.Fatalf("without a library: exit %d\n%s", code, out)
	}
	lib := testenv.ORTLibrary(t)
	code, out, _ = runCLI(t, "version", "--ort-lib", lib)
	if code != 0 || !strings.Contains(out, "onnxruntime 1.") || !strings.Contains(out, "("+lib+")") {
		t.Fatalf("with %s: exit %d\n%s", lib, code, out)
	}
}

func TestNumberFormats(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 11689512: "11,689,512", -1234567: "-1,234,567"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{512: "512 B", 16328: "15.9 KiB", 46758048: "44.6 MiB"} {
		if got := bytesString(n); got != want {
			t.Errorf("bytesString(%d) = %q, want %q", n, got, want)
		}
	}
}
