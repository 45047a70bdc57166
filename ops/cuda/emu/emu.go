//go:build cgo

package emu

// #cgo CXXFLAGS: -std=c++17 -O2 -Wall
// #include <stdlib.h>
// #include "emu.h"
import "C"

import (
	"fmt"
	"math"
	"sort"
	"sync"
	"unsafe"

	"github.com/ssl4dp/ssl4dp/ops/cuda/kernels"
)

// Guard is the number of elements of NaN guard band on each side of every slice argument.
const Guard = 64

// guardBits is the guard bands' value: a quiet NaN with a payload that a kernel's own
// arithmetic is unlikely to produce, as float32 or int32 bits.
const guardBits = 0x7fbadbad

var mu sync.Mutex // the emulator's state is global: one launch at a time

// Kernels lists the kernels the emulator can launch, sorted.
func Kernels() []string {
	mu.Lock()
	defer mu.Unlock()
	n := int(C.emu_kernel_count())
	out := make([]string, n)
	for i := range out {
		out[i] = C.GoString(C.emu_kernel_name(C.int(i)))
	}
	sort.Strings(out)
	return out
}

// Signature returns the kernel's parameter types, one letter each: F float*, f const
// float*, I int*, i const int*, n int, x float, U unsigned long long, d double.
func Signature(kernel string) (string, bool) {
	cs := C.CString(kernel)
	defer C.free(unsafe.Pointer(cs))
	s := C.emu_signature(cs)
	if s == nil {
		return "", false
	}
	return C.GoString(s), true
}

// Launch runs kernel over grid×block threads with sharedBytes of dynamic shared memory.
// args match the kernel's parameters in order: []float32 for float pointers, []int32 for int
// pointers, int32 (or int) for int, float32 for float, uint64 for unsigned long long,
// float64 for double. Slices are copied in, and those the
// kernel may write (non-const pointers) copied back; the same slice passed twice is one
// buffer (in-place kernels).
func Launch(kernel string, grid, block [3]int, sharedBytes int, args ...any) error {
	return launch(kernel, grid, block, sharedBytes, false, args)
}

// LaunchReverse is Launch with each block's threads run in descending order between
// barriers.
func LaunchReverse(kernel string, grid, block [3]int, sharedBytes int, args ...any) error {
	return launch(kernel, grid, block, sharedBytes, true, args)
}

// buffer is one slice argument in C memory, guards included.
type buffer struct {
	mem   unsafe.Pointer
	n     int
	f32   []float32 // the Go slice (one of the two)
	i32   []int32
	write bool
	arg   int // the first argument it was passed as
}

func (b *buffer) words() []uint32 { return unsafe.Slice((*uint32)(b.mem), b.n+2*Guard) }

func launch(kernel string, grid, block [3]int, sharedBytes int, reverse bool, args []any) error {
	sig, ok := Signature(kernel)
	if !ok {
		return fmt.Errorf("emu: no kernel %q (known: %v); add it to its family's .cc file with EMU_KERNEL", kernel, Kernels())
	}
	if len(args) != len(sig) {
		return fmt.Errorf("emu: %s takes %d arguments (%s), got %d", kernel, len(sig), describe(sig), len(args))
	}
	slots := (*[1 << 20]uint64)(C.calloc(C.size_t(len(sig)+1), 8))[: len(sig)+1 : len(sig)+1]
	defer C.free(unsafe.Pointer(&slots[0]))
	var bufs []*buffer
	defer func() {
		for _, b := range bufs {
			C.free(b.mem)
		}
	}()
	for i, a := range args {
		code := sig[i]
		bad := func() error {
			return fmt.Errorf("emu: %s argument %d is %s, got %T", kernel, i, describe(string(code)), a)
		}
		switch code {
		case 'F', 'f', 'I', 'i':
			b := &buffer{write: code == 'F' || code == 'I', arg: i}
			switch v := a.(type) {
			case []float32:
				if code != 'F' && code != 'f' {
					return bad()
				}
				b.f32, b.n = v, len(v)
			case []int32:
				if code != 'I' && code != 'i' {
					return bad()
				}
				b.i32, b.n = v, len(v)
			default:
				return bad()
			}
			if prev := overlap(bufs, b); prev != nil {
				return fmt.Errorf("emu: %s arguments %d and %d are overlapping but different slices; pass the same slice for an in-place kernel, or disjoint ones", kernel, prev.arg, i)
			}
			if prev := alias(bufs, b); prev != nil {
				// The same slice twice (an in-place kernel): one device buffer, as on a GPU.
				prev.write = prev.write || b.write
				slots[i] = uint64(uintptr(unsafe.Pointer(&prev.words()[Guard])))
				continue
			}
			b.mem = C.malloc(C.size_t(4 * (b.n + 2*Guard)))
			bufs = append(bufs, b)
			w := b.words()
			for j := range w {
				w[j] = guardBits
			}
			data := w[Guard : Guard+b.n]
			for j := range data {
				if b.f32 != nil {
					data[j] = math.Float32bits(b.f32[j])
				} else {
					data[j] = uint32(b.i32[j])
				}
			}
			slots[i] = uint64(uintptr(unsafe.Pointer(&w[Guard])))
		case 'n':
			switch v := a.(type) {
			case int32:
				slots[i] = uint64(uint32(v))
			case int:
				if v != int(int32(v)) {
					return fmt.Errorf("emu: %s argument %d: %d does not fit an int", kernel, i, v)
				}
				slots[i] = uint64(uint32(int32(v)))
			default:
				return bad()
			}
		case 'x':
			v, ok := a.(float32)
			if !ok {
				return bad()
			}
			slots[i] = uint64(math.Float32bits(v))
		case 'U':
			v, ok := a.(uint64)
			if !ok {
				return bad()
			}
			slots[i] = v
		case 'd':
			v, ok := a.(float64)
			if !ok {
				return bad()
			}
			slots[i] = math.Float64bits(v)
		}
	}
	cg := (*[3]C.int)(C.malloc(6 * C.size_t(unsafe.Sizeof(C.int(0)))))
	defer C.free(unsafe.Pointer(cg))
	cb := (*[3]C.int)(unsafe.Add(unsafe.Pointer(cg), 3*unsafe.Sizeof(C.int(0))))
	for d := 0; d < 3; d++ {
		if grid[d] > math.MaxInt32 || block[d] > math.MaxInt32 {
			return fmt.Errorf("emu: %s: grid %v or block %v too large", kernel, grid, block)
		}
		cg[d], cb[d] = C.int(grid[d]), C.int(block[d])
	}
	const errLen = 512
	cerr := (*C.char)(C.calloc(errLen, 1))
	defer C.free(unsafe.Pointer(cerr))
	cname := C.CString(kernel)
	defer C.free(unsafe.Pointer(cname))
	rev := C.int(0)
	if reverse {
		rev = 1
	}
	mu.Lock()
	rc := C.emu_launch(cname, &cg[0], &cb[0], C.int(sharedBytes), (*C.uint64_t)(unsafe.Pointer(&slots[0])), rev, cerr, errLen)
	mu.Unlock()
	if rc != 0 {
		return fmt.Errorf("%s", C.GoString(cerr))
	}
	for _, b := range bufs {
		w := b.words()
		for j := range w {
			if j >= Guard && j < Guard+b.n {
				continue
			}
			if w[j] != guardBits {
				off := j - Guard
				if off >= 0 {
					off -= b.n
				}
				return fmt.Errorf("emu: %s wrote out of bounds of its slice argument %d (length %d): element %+d past the %s",
					kernel, b.arg, b.n, off, map[bool]string{true: "start", false: "end"}[j < Guard])
			}
		}
		if !b.write {
			continue
		}
		data := w[Guard : Guard+b.n]
		for j, u := range data {
			if b.f32 != nil {
				b.f32[j] = math.Float32frombits(u)
			} else {
				b.i32[j] = int32(u)
			}
		}
	}
	return nil
}

// span is the address range of b's Go slice.
func (b *buffer) span() (lo, hi uintptr) {
	switch {
	case len(b.f32) > 0:
		lo = uintptr(unsafe.Pointer(&b.f32[0]))
	case len(b.i32) > 0:
		lo = uintptr(unsafe.Pointer(&b.i32[0]))
	}
	return lo, lo + 4*uintptr(b.n)
}

// overlap returns an earlier buffer whose Go slice overlaps b's without being the same
// slice: a GPU would see one memory, the emulator two copies, so it refuses.
func overlap(bufs []*buffer, b *buffer) *buffer {
	if b.n == 0 {
		return nil
	}
	lo, hi := b.span()
	for _, p := range bufs {
		plo, phi := p.span()
		if p.n > 0 && lo < phi && plo < hi && !(plo == lo && phi == hi) {
			return p
		}
	}
	return nil
}

// alias returns the buffer already made for b's Go slice, if the same slice came before.
func alias(bufs []*buffer, b *buffer) *buffer {
	if b.n == 0 {
		return nil
	}
	for _, p := range bufs {
		if p.n == b.n && ((b.f32 != nil && p.f32 != nil && &p.f32[0] == &b.f32[0]) || (b.i32 != nil && p.i32 != nil && &p.i32[0] == &b.i32[0])) {
			return p
		}
	}
	return nil
}

// describe spells a signature out for error messages.
func describe(sig string) string {
	names := map[rune]string{'F': "[]float32 (float*)", 'f': "[]float32 (const float*)", 'I': "[]int32 (int*)", 'i': "[]int32 (const int*)", 'n': "int32 (int)", 'x': "float32 (float)", 'U': "uint64 (unsigned long long)", 'd': "float64 (double)"}
	s := ""
	for i, c := range sig {
		if i > 0 {
			s += ", "
		}
		s += names[c]
	}
	return s
}

var _ = kernels.Sources // importing kernels makes this package rebuild when a .cu source changes
