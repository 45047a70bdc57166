//go:build !cgo

package device

// CUDA needs cgo (the driver is loaded with dlopen).
type CUDA struct{ Device }

// NewCUDA fails without cgo.
func NewCUDA(i int) (*CUDA, error) {
	return nil, errorf("cuda: this binary was built without cgo, which loading the CUDA driver needs; rebuild with CGO_ENABLED=1")
}

// Close does nothing.
func (d *CUDA) Close() error { return nil }
