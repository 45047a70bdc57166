package main

import (
	"fmt"
	"runtime"

	"github.com/ssl4dp/ssl4dp/internal/blas"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
	"github.com/ssl4dp/ssl4dp/ops/cuda/cublas"
	"github.com/ssl4dp/ssl4dp/ops/cuda/driver"
)

// VersionCmd prints versions.
type VersionCmd struct {
	OrtLib string `name:"ort-lib" placeholder:"FILE" help:"onnxruntime shared library to report on (default: $ONNXRUNTIME_SHARED_LIBRARY_PATH, the 'just setup' cache, then system folders)."`
}

// Run prints the versions of ssl4dp and what it is built with. A missing or broken
// onnxruntime is reported, not an error: version must work before setup.
func (c VersionCmd) Run(*Globals) error {
	fmt.Fprintf(stdout, "ssl4dp %s (%s, %s/%s, BLAS: %s)\n", onnx.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, blas.Name)
	if info, err := driver.Probe(); err != nil {
		fmt.Fprintf(stdout, "%v\n", err)
	} else {
		fmt.Fprintf(stdout, "CUDA driver %s (%s), %d GPU(s):\n", info.VersionString(), info.Library, len(info.Devices))
		for _, d := range info.Devices {
			fmt.Fprintf(stdout, "  GPU %s\n", d)
		}
		if file, ver, err := cublas.Load(); err != nil {
			fmt.Fprintf(stdout, "cuBLAS: %v\n", err)
		} else {
			fmt.Fprintf(stdout, "cuBLAS %s (%s)\n", ver, file)
		}
	}
	if err := ort.Init(c.OrtLib); err != nil {
		fmt.Fprintf(stdout, "onnxruntime: unavailable: %v\n", oneLine(err))
		return nil
	}
	fmt.Fprintf(stdout, "onnxruntime %s (%s)\n", ort.Version(), ort.Loaded())
	return nil
}
