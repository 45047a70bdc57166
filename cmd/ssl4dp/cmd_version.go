package main

import (
	"fmt"
	"runtime"

	"github.com/ssl4dp/ssl4dp/internal/blas"
	"github.com/ssl4dp/ssl4dp/onnx"
)

// VersionCmd prints versions.
type VersionCmd struct{}

// Run prints the versions of ssl4dp and what it is built with.
func (VersionCmd) Run(*Globals) error {
	fmt.Printf("ssl4dp %s (%s, %s/%s, BLAS: %s)\n", onnx.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, blas.Name)
	return nil
}
