//go:build !cgo

package ort

const cgoEnabled = false

// Init always fails without cgo.
func Init(string) error { return ErrNoCgo }

// Loaded returns "": nothing can be loaded without cgo.
func Loaded() string { return "" }

// Version returns "": nothing can be loaded without cgo.
func Version() string { return "" }

type handle struct{}

func newHandle([]byte, []ValueInfo, []ValueInfo, string, Options) (*handle, error) {
	return nil, ErrNoCgo
}

func (*handle) run([]Tensor) ([]Tensor, error) { return nil, ErrNoCgo }

func (*handle) close() error { return nil }
