package onnx

import (
	"errors"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
)

// A PyTorch export read and written back by ssl4dp is the same model, and Debian's
// onnx.checker (full_check: types and shapes inferred too) accepts the file we wrote.
func TestSavedExportPassesONNXChecker(t *testing.T) {
	m, err := ReadFile(tinyPath)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "resaved.onnx")
	if err := WriteFile(out, m); err != nil {
		t.Fatal(err)
	}
	m2, err := ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(m, m2) {
		t.Fatal("model changed in a load/save/load round trip")
	}
	testenv.CheckModel(t, out)
}

// The CLI maps errors with an ExitCode method to that exit code; a FormatError is bad input.
func TestFormatErrorExitCode(t *testing.T) {
	_, err := Decode(nil, "empty.onnx")
	var ec interface{ ExitCode() int }
	if !errors.As(err, &ec) || ec.ExitCode() != 2 {
		t.Fatalf("FormatError exit code: %v", err)
	}
}
