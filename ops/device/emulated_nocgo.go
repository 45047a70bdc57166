//go:build !cgo

package device

// Launch needs the emulator, which needs cgo.
func (e *Emulated) Launch(kernel string, grid, block Dim3, shared int, args ...any) error {
	if err := e.flush(); err != nil {
		return err
	}
	return errorf("emulated: launching %s needs the kernel emulator (ops/cuda/emu), which needs cgo; build with CGO_ENABLED=1", kernel)
}
