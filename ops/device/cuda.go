//go:build cgo

package device

import (
	"io/fs"

	"github.com/ssl4dp/ssl4dp/ops/cuda/cublas"
	"github.com/ssl4dp/ssl4dp/ops/cuda/driver"
	"github.com/ssl4dp/ssl4dp/ops/cuda/kernels"
)

// CUDA is a GPU as a Device: the driver's primary context and stream (ops/cuda/driver),
// cuBLAS for GEMMs (ops/cuda/cublas, TF32 off: the CPU's float32 products), and every
// kernel of the committed PTX (ops/cuda/kernels) loaded once at open. Nothing here is run
// by CI on a GPU; the stand-in drivers of ops/cuda/driver/testdata check the plumbing.
type CUDA struct {
	ctx  *driver.Context
	blas *cublas.Handle
	mods []*driver.Module
	fns  map[string]driver.Function
}

// NewCUDA opens GPU i, cuBLAS and the kernels. The errors are the driver's one-liners (no
// driver, CUDA too old, no such GPU, no cuBLAS).
func NewCUDA(i int) (*CUDA, error) {
	ctx, err := driver.Open(i)
	if err != nil {
		return nil, err
	}
	d := &CUDA{ctx: ctx, fns: map[string]driver.Function{}}
	if d.blas, err = cublas.New(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.blas.SetTF32(false); err != nil {
		d.Close()
		return nil, err
	}
	files, _ := fs.Glob(kernels.PTX, "ptx/*.ptx")
	for _, f := range files {
		src, _ := fs.ReadFile(kernels.PTX, f)
		mod, err := ctx.LoadPTX(src)
		if err != nil {
			d.Close()
			return nil, errorf("cuda: loading %s: %w", f, err)
		}
		d.mods = append(d.mods, mod)
		for _, name := range kernels.Entries(string(src)) {
			fn, err := mod.Function(name)
			if err != nil {
				d.Close()
				return nil, errorf("cuda: %s: %w", f, err)
			}
			d.fns[name] = fn
		}
	}
	return d, nil
}

// Kernels is the number of kernels loaded.
func (d *CUDA) Kernels() int { return len(d.fns) }

// Close unloads the kernels and releases cuBLAS and the context.
func (d *CUDA) Close() error {
	for _, m := range d.mods {
		_ = m.Unload()
	}
	d.mods = nil
	if d.blas != nil {
		_ = d.blas.Close()
		d.blas = nil
	}
	return d.ctx.Close()
}

func (d *CUDA) Name() string { return "cuda" }

func (d *CUDA) Alloc(n int) (Ptr, error) {
	p, err := d.ctx.Alloc(max(n, 1))
	return Ptr(p), err
}

func (d *CUDA) Free(p Ptr) error                  { return d.ctx.Free(driver.Ptr(p)) }
func (d *CUDA) CopyIn(dst Ptr, src []byte) error  { return d.ctx.CopyIn(driver.Ptr(dst), src) }
func (d *CUDA) CopyOut(dst []byte, src Ptr) error { return d.ctx.CopyOut(dst, driver.Ptr(src)) }
func (d *CUDA) Zero(p Ptr, n int) error           { return d.ctx.Zero(driver.Ptr(p), n) }
func (d *CUDA) Sync() error                       { return d.ctx.Sync() }

// AllocPinned is cuMemAllocHost; CopyInPinned queues cuMemcpyHtoDAsync on the stream.
func (d *CUDA) AllocPinned(n int) (Pinned, error) { return d.ctx.AllocPinned(max(n, 1)) }

func (d *CUDA) FreePinned(p Pinned) error {
	dp, ok := p.(*driver.Pinned)
	if !ok {
		return errorf("cuda: free of pinned staging this device did not allocate")
	}
	return d.ctx.FreePinned(dp)
}

func (d *CUDA) CopyInPinned(dst Ptr, src Pinned, n int) error {
	dp, ok := src.(*driver.Pinned)
	if !ok {
		return errorf("cuda: pinned copy from staging this device did not allocate")
	}
	return d.ctx.CopyInPinned(driver.Ptr(dst), dp, n)
}

// SetTF32 switches cuBLAS's TF32 tensor-core mode for the GEMMs (off at open: fp32).
func (d *CUDA) SetTF32(on bool) error { return d.blas.SetTF32(on) }

// Copy goes through the host: ops/cuda/driver has no cuMemcpyDtoD yet (one entry point to
// add before a GPU run; a step's device-to-device copies are Gorgonia's rare Memcpy).
func (d *CUDA) Copy(dst, src Ptr, n int) error {
	buf := make([]byte, n)
	if err := d.CopyOut(buf, src); err != nil {
		return err
	}
	return d.CopyIn(dst, buf)
}

// Launch passes Ptr arguments as device pointers and the rest as the driver takes them.
func (d *CUDA) Launch(kernel string, grid, block Dim3, shared int, args ...any) error {
	fn, ok := d.fns[kernel]
	if !ok {
		return errorf("cuda: no kernel %q in the committed PTX (ops/cuda/kernels/ptx; run just ptx after adding one)", kernel)
	}
	conv := make([]any, len(args))
	for i, a := range args {
		if p, ok := a.(Ptr); ok {
			conv[i] = driver.Ptr(p)
		} else {
			conv[i] = a
		}
	}
	return d.ctx.Launch(fn, dim3(grid), dim3(block), shared, conv...)
}

func dim3(d Dim3) driver.Dim3 { return driver.Dim3{uint32(d[0]), uint32(d[1]), uint32(d[2])} }

func (d *CUDA) Gemm(transA, transB bool, m, n, k int, alpha float32, a Ptr, lda int, b Ptr, ldb int, beta float32, c Ptr, ldc int) error {
	return d.blas.Gemm(transA, transB, m, n, k, alpha, driver.Ptr(a), lda, driver.Ptr(b), ldb, beta, driver.Ptr(c), ldc)
}
