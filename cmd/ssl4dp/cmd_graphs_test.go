package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
)

// `ssl4dp graphs` reports torchvision's parameter count and cost, and writes a model that
// reads back with the same count.
func TestGraphsCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r18.onnx")
	code, stdout, errOut := runCLI(t, "graphs", "--encoder", "resnet18", "--head", "classifier", "--classes", "1000", "--size", "224", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"trainable parameters: 11,689,512", "3.63 GFLOPs (1.81 G multiply-adds", "class_logits [1 1000]", "features [1 512 7 7]"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	m, err := onnx.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if p := onnx.Summarize(m).Params; p != 11_689_512 {
		t.Errorf("written model has %d parameters", p)
	}
}

func TestGraphsCommandBadInput(t *testing.T) {
	dir := t.TempDir()
	cases := [][]string{
		{"--encoder", "resnet101", "--head", "fcn", "--classes", "21"},
		{"--encoder", "resnet18", "--head", "fcn"},                                            // no classes
		{"--encoder", "resnet18", "--head", "fcn", "--classes", "21", "--output-stride", "4"}, // bad stride
		{"--encoder", "resnet18", "--head", "fcn", "--classes", "21", "--width", "-1"},
		{"--encoder", "resnet18", "--head", "none", "--size", "0"},
	}
	for _, args := range cases {
		code, _, errOut := runCLI(t, append(append([]string{"graphs"}, args...), "-o", filepath.Join(dir, "m.onnx"))...)
		if code != 2 || errOut == "" {
			t.Errorf("%v: exit %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
}
