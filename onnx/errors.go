package onnx

import "fmt"

// FormatError reports a file that is not a usable ONNX model.
type FormatError struct {
	File string // the file (or a caller-given name for in-memory bytes)
	Msg  string // what is wrong, and where possible what to do
}

func (e *FormatError) Error() string {
	if e.File == "" {
		return "onnx: " + e.Msg
	}
	return fmt.Sprintf("onnx: %s: %s", e.File, e.Msg)
}

// ExitCode makes the CLI exit with 2 (bad input) for a FormatError, as it does for a bad
// command line: the user has to change the input, not report a bug.
func (e *FormatError) ExitCode() int { return 2 }

func formatErr(file, format string, args ...any) error {
	return &FormatError{File: file, Msg: fmt.Sprintf(format, args...)}
}
