//go:build cgo

// Package gpucheck runs a kernel on the emulator (ops/cuda/emu) and, where a GPU is there and
// SSL4DP_GPU=1 asks for it, on the GPU too, and requires the same bits from both. The kernel
// parity tests launch through it, so the same tests that prove the kernels against the CPU
// ops here prove, on a lent GPU machine (scripts/gpu_check.sh), that the driver runs the
// committed PTX as the emulator runs the sources: the kernels use only IEEE-rounded
// arithmetic without contraction (the PTX test checks), so there is no tolerance to allow.
package gpucheck

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"math"
	"os"
	"sync"

	"github.com/ssl4dp/ssl4dp/ops/cuda/driver"
	"github.com/ssl4dp/ssl4dp/ops/cuda/emu"
	"github.com/ssl4dp/ssl4dp/ops/cuda/kernels"
)

// Env turns the GPU comparison on ("1"); without a GPU it is then an error, not a skip.
const Env = "SSL4DP_GPU"

// Enabled reports whether launches are also run on the GPU.
func Enabled() bool { return os.Getenv(Env) == "1" }

// Launch is emu.Launch, and with Enabled the same launch on GPU 0 from the same inputs,
// compared bit for bit: args hold the emulator's results afterwards.
func Launch(kernel string, grid, block [3]int, shared int, args ...any) error {
	var inputs []any
	if Enabled() {
		inputs = clone(args)
	}
	if err := emu.Launch(kernel, grid, block, shared, args...); err != nil {
		return err
	}
	if !Enabled() {
		return nil
	}
	outs, err := onGPU(kernel, grid, block, shared, inputs)
	if err != nil {
		return fmt.Errorf("gpucheck: %s on the GPU: %w", kernel, err)
	}
	return compare(kernel, args, outs)
}

func clone(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case []float32:
			out[i] = append([]float32(nil), v...)
		case []int32:
			out[i] = append([]int32(nil), v...)
		default:
			out[i] = a
		}
	}
	return out
}

// compare requires every slice argument to hold the same bits on both.
func compare(kernel string, emuOut, gpuOut []any) error {
	for i, a := range emuOut {
		switch v := a.(type) {
		case []float32:
			w := gpuOut[i].([]float32)
			for j := range v {
				if math.Float32bits(v[j]) != math.Float32bits(w[j]) {
					return fmt.Errorf("gpucheck: %s argument %d element %d: emulator %v, GPU %v (%d ulp)", kernel, i, j, v[j], w[j], ulps(v[j], w[j]))
				}
			}
		case []int32:
			w := gpuOut[i].([]int32)
			for j := range v {
				if v[j] != w[j] {
					return fmt.Errorf("gpucheck: %s argument %d element %d: emulator %d, GPU %d", kernel, i, j, v[j], w[j])
				}
			}
		}
	}
	return nil
}

func ulps(a, b float32) int64 {
	d := int64(int32(math.Float32bits(a))) - int64(int32(math.Float32bits(b)))
	if d < 0 {
		return -d
	}
	return d
}

var gpu struct {
	once sync.Once
	ctx  *driver.Context
	fns  map[string]driver.Function
	err  error
}

// device opens GPU 0 and loads every committed PTX module once.
func device() (*driver.Context, map[string]driver.Function, error) {
	gpu.once.Do(func() {
		c, err := driver.Open(0)
		if err != nil {
			gpu.err = err
			return
		}
		gpu.ctx, gpu.fns = c, map[string]driver.Function{}
		files, _ := fs.Glob(kernels.PTX, "ptx/*.ptx")
		for _, f := range files {
			src, _ := fs.ReadFile(kernels.PTX, f)
			mod, err := c.LoadPTX(src)
			if err != nil {
				gpu.err = fmt.Errorf("%s: %w", f, err)
				return
			}
			for _, name := range kernels.Entries(string(src)) {
				fn, err := mod.Function(name)
				if err != nil {
					gpu.err = err
					return
				}
				gpu.fns[name] = fn
			}
		}
	})
	return gpu.ctx, gpu.fns, gpu.err
}

// onGPU runs the launch on the GPU: slices are copied to device buffers (a slice passed
// twice is one buffer, as on the emulator), scalars passed as the kernel's C types, and every
// buffer copied back.
func onGPU(kernel string, grid, block [3]int, shared int, args []any) ([]any, error) {
	c, fns, err := device()
	if err != nil {
		return nil, err
	}
	fn, ok := fns[kernel]
	if !ok {
		return nil, fmt.Errorf("no kernel %q in the committed PTX", kernel)
	}
	type buf struct {
		p     driver.Ptr
		bytes int
	}
	bufs := map[any]buf{}
	key := func(a any) any {
		switch v := a.(type) {
		case []float32:
			if len(v) > 0 {
				return &v[0]
			}
		case []int32:
			if len(v) > 0 {
				return &v[0]
			}
		}
		return nil
	}
	defer func() {
		for _, b := range bufs {
			c.Free(b.p)
		}
	}()
	largs := make([]any, len(args))
	for i, a := range args {
		var raw []byte
		switch v := a.(type) {
		case []float32:
			raw = make([]byte, 4*len(v))
			for j, x := range v {
				binary.LittleEndian.PutUint32(raw[4*j:], math.Float32bits(x))
			}
		case []int32:
			raw = make([]byte, 4*len(v))
			for j, x := range v {
				binary.LittleEndian.PutUint32(raw[4*j:], uint32(x))
			}
		case int:
			largs[i] = int32(v)
			continue
		default:
			largs[i] = a
			continue
		}
		k := key(a)
		if b, ok := bufs[k]; ok && k != nil {
			largs[i] = b.p
			continue
		}
		p, err := c.Alloc(max(len(raw), 4))
		if err != nil {
			return nil, err
		}
		if err := c.CopyIn(p, raw); err != nil {
			return nil, err
		}
		if k != nil {
			bufs[k] = buf{p, len(raw)}
		} else {
			bufs[&largs[i]] = buf{p, len(raw)}
		}
		largs[i] = p
	}
	d := func(v [3]int) driver.Dim3 { return driver.Dim3{uint32(v[0]), uint32(v[1]), uint32(v[2])} }
	if err := c.Launch(fn, d(grid), d(block), shared, largs...); err != nil {
		return nil, err
	}
	if err := c.Sync(); err != nil {
		return nil, err
	}
	outs := clone(args)
	for i, a := range outs {
		p, ok := largs[i].(driver.Ptr)
		if !ok {
			continue
		}
		switch v := a.(type) {
		case []float32:
			raw := make([]byte, 4*len(v))
			if err := c.CopyOut(raw, p); err != nil {
				return nil, err
			}
			for j := range v {
				v[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			}
		case []int32:
			raw := make([]byte, 4*len(v))
			if err := c.CopyOut(raw, p); err != nil {
				return nil, err
			}
			for j := range v {
				v[j] = int32(binary.LittleEndian.Uint32(raw[4*j:]))
			}
		}
	}
	return outs, nil
}
