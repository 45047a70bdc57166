package device

import (
	"sort"
	"unsafe"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	_ "github.com/ssl4dp/ssl4dp/internal/blas" // OpenBLAS unless built with -tags purego
)

// emuTag is the top 16 bits of every emulated device address: 0x5d1e_…. On amd64 and arm64
// such an address is non-canonical (user space ends below 2^48), so a host load or store
// through it faults at once, and Go's collector ignores it (it is outside every heap arena):
// a tensor over emulated memory may carry it as its data pointer safely, but any host code
// that reads that tensor's elements crashes instead of reading plausible numbers.
const emuTag = Ptr(0x5d1e) << 48

// emuAlign is the alignment of every allocation, as cuMemAlloc's (256 bytes); a gap of the
// same size separates allocations, so one byte past an allocation is in none.
const emuAlign = 256

// Emulated is a Device whose memory is Go-owned host memory addressed by fake device
// pointers, whose kernels run on the CPU under ops/cuda/emu (cgo) and whose GEMMs run on the
// CPU BLAS. It is the device CI proves a training step on: the same Launch calls and
// arguments as on a GPU, the same kernels (compiled for the host), the same copies.
type Emulated struct {
	next   Ptr
	blocks []*emuBlock // the live allocations, ascending by base
	live   int         // bytes allocated
	// Launches counts kernel launches and Gemms GEMMs (tests check that work went through
	// the device).
	Launches, Gemms int
	// BytesIn and BytesOut count the bytes CopyIn and CopyOut moved between host and device
	// (tests check that a resident training step moves only its batch and its scalars).
	BytesIn, BytesOut int
	// PinnedIn counts the bytes of BytesIn that came through pinned staging.
	PinnedIn int
	pending  []emuPending // queued pinned copies, run by the next call that is not one
}

type emuBlock struct {
	base  Ptr
	n     int      // bytes requested
	words []uint32 // the memory, rounded up to whole 4-byte words
}

// emuPinned is the emulated device's pinned staging: Go memory, freed only once.
type emuPinned struct {
	b     []byte
	freed bool
}

func (p *emuPinned) Bytes() []byte { return p.b }

// emuPending is a queued CopyInPinned.
type emuPending struct {
	dst Ptr
	src *emuPinned
	n   int
}

// AllocPinned returns n bytes of host memory standing for page-locked staging.
func (e *Emulated) AllocPinned(n int) (Pinned, error) {
	if n < 0 {
		return nil, errorf("emulated: pinned alloc of %d bytes", n)
	}
	return &emuPinned{b: make([]byte, n)}, nil
}

// FreePinned releases staging; its queued copies run first.
func (e *Emulated) FreePinned(p Pinned) error {
	ep, ok := p.(*emuPinned)
	if !ok || ep.freed {
		return errorf("emulated: free of pinned staging that this device did not allocate or already freed")
	}
	if err := e.flush(); err != nil {
		return err
	}
	ep.freed = true
	return nil
}

// CopyInPinned queues the copy as a GPU's stream would: it runs when the next call that is
// not a pinned copy comes (a launch, any other copy, Sync), so staging written again before
// that — a single-buffer bug — lands on the device, as it would on a GPU.
func (e *Emulated) CopyInPinned(dst Ptr, src Pinned, n int) error {
	ep, ok := src.(*emuPinned)
	if !ok || ep.freed {
		return errorf("emulated: pinned copy from staging that this device did not allocate or already freed")
	}
	if n < 0 || n > len(ep.b) {
		return errorf("emulated: pinned copy of %d bytes from %d bytes of staging", n, len(ep.b))
	}
	if _, err := e.bytes(dst, n); err != nil {
		return errorf("emulated: pinned copy in: %w", err)
	}
	e.pending = append(e.pending, emuPending{dst, ep, n})
	return nil
}

// flush runs the queued pinned copies.
func (e *Emulated) flush() error {
	for _, c := range e.pending {
		d, err := e.bytes(c.dst, c.n)
		if err != nil {
			e.pending = e.pending[:0]
			return errorf("emulated: pinned copy in: %w", err)
		}
		copy(d, c.src.b[:c.n])
		e.BytesIn += c.n
		e.PinnedIn += c.n
	}
	e.pending = e.pending[:0]
	return nil
}

// NewEmulated returns an emulated device with no memory allocated.
func NewEmulated() *Emulated { return &Emulated{next: emuTag + emuAlign} }

// Name is "emulated".
func (e *Emulated) Name() string { return "emulated" }

// Live returns the bytes currently allocated (tests check that frees balance).
func (e *Emulated) Live() int { return e.live }

// Alloc returns n zeroed bytes (a real device's memory is not zeroed; nothing may rely on it).
func (e *Emulated) Alloc(n int) (Ptr, error) {
	if err := e.flush(); err != nil {
		return 0, err
	}
	if n < 0 {
		return 0, errorf("emulated: alloc of %d bytes", n)
	}
	b := &emuBlock{base: e.next, n: n, words: make([]uint32, (n+3)/4)}
	e.next += Ptr((n+emuAlign-1)/emuAlign*emuAlign + emuAlign)
	e.blocks = append(e.blocks, b)
	e.live += n
	return b.base, nil
}

// Free releases p's allocation; p must be an address Alloc returned.
func (e *Emulated) Free(p Ptr) error {
	if err := e.flush(); err != nil {
		return err
	}
	b, off, err := e.find(p, 0)
	if err != nil {
		return err
	}
	if off != 0 {
		return errorf("emulated: free of %#x, %d bytes inside the allocation at %#x", uint64(p), off, uint64(b.base))
	}
	// Drop the block, so a long run's per-op scratch does not pile up; an address into it is
	// then in no live allocation, which every later use reports.
	i := sort.Search(len(e.blocks), func(i int) bool { return e.blocks[i].base >= b.base })
	e.blocks = append(e.blocks[:i], e.blocks[i+1:]...)
	e.live -= b.n
	return nil
}

// find returns the live allocation holding [p, p+n) and p's offset in it.
func (e *Emulated) find(p Ptr, n int) (*emuBlock, int, error) {
	if p&^(Ptr(1)<<48-1) != emuTag {
		return nil, 0, errorf("emulated: %#x is not an emulated device address (a host pointer or a CPU tensor given to the device?)", uint64(p))
	}
	i := sort.Search(len(e.blocks), func(i int) bool { return e.blocks[i].base > p }) - 1
	if i < 0 || p >= e.blocks[i].base+Ptr(max(e.blocks[i].n, 1)) {
		return nil, 0, errorf("emulated: %#x is in no live allocation (never allocated, or freed)", uint64(p))
	}
	b := e.blocks[i]
	off := int(p - b.base)
	if off+n > b.n {
		return nil, 0, errorf("emulated: %d bytes at %#x run %d bytes past the end of its %d-byte allocation", n, uint64(p), off+n-b.n, b.n)
	}
	return b, off, nil
}

// bytes returns the n bytes at p as a host slice.
func (e *Emulated) bytes(p Ptr, n int) ([]byte, error) {
	b, off, err := e.find(p, n)
	if err != nil || n == 0 {
		return nil, err
	}
	all := unsafe.Slice((*byte)(unsafe.Pointer(&b.words[0])), 4*len(b.words))
	return all[off : off+n], nil
}

// rest32 returns the 4-byte words from p to the end of its allocation (a kernel's pointer
// argument: the kernel's own arguments say how far it reads).
func (e *Emulated) rest32(p Ptr) ([]uint32, error) {
	b, off, err := e.find(p, 0)
	if err != nil {
		return nil, err
	}
	if off%4 != 0 {
		return nil, errorf("emulated: %#x is not 4-byte aligned", uint64(p))
	}
	return b.words[off/4 : b.n/4], nil
}

func (e *Emulated) CopyIn(dst Ptr, src []byte) error {
	if err := e.flush(); err != nil {
		return err
	}
	d, err := e.bytes(dst, len(src))
	if err != nil {
		return errorf("emulated: copy in: %w", err)
	}
	copy(d, src)
	e.BytesIn += len(src)
	return nil
}

func (e *Emulated) CopyOut(dst []byte, src Ptr) error {
	if err := e.flush(); err != nil {
		return err
	}
	s, err := e.bytes(src, len(dst))
	if err != nil {
		return errorf("emulated: copy out: %w", err)
	}
	copy(dst, s)
	e.BytesOut += len(dst)
	return nil
}

func (e *Emulated) Copy(dst, src Ptr, n int) error {
	if err := e.flush(); err != nil {
		return err
	}
	d, err := e.bytes(dst, n)
	if err != nil {
		return errorf("emulated: copy: %w", err)
	}
	s, err := e.bytes(src, n)
	if err != nil {
		return errorf("emulated: copy: %w", err)
	}
	copy(d, s)
	return nil
}

func (e *Emulated) Zero(p Ptr, n int) error {
	if err := e.flush(); err != nil {
		return err
	}
	d, err := e.bytes(p, n)
	if err != nil {
		return errorf("emulated: zero: %w", err)
	}
	clear(d)
	return nil
}

// Gemm runs on the CPU BLAS over the device memory's host backing (no copies: the memory
// is host memory; the bounds are checked against each matrix's allocation first).
func (e *Emulated) Gemm(transA, transB bool, m, n, k int, alpha float32, a Ptr, lda int, b Ptr, ldb int, beta float32, c Ptr, ldc int) error {
	if err := e.flush(); err != nil {
		return err
	}
	if m == 0 || n == 0 {
		return nil
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	A, err := e.matrix("A", a, ar, ac, lda)
	if err != nil {
		return err
	}
	B, err := e.matrix("B", b, br, bc, ldb)
	if err != nil {
		return err
	}
	C, err := e.matrix("C", c, m, n, ldc)
	if err != nil {
		return err
	}
	ta, tb := blas.NoTrans, blas.NoTrans
	if transA {
		ta = blas.Trans
	}
	if transB {
		tb = blas.Trans
	}
	if k == 0 { // BLAS wants non-empty A and B; C = beta·C
		A, B = make([]float32, max(ar*lda, 1)), make([]float32, max(br*ldb, 1))
	}
	blas32.Implementation().Sgemm(ta, tb, m, n, k, alpha, A, max(lda, 1), B, max(ldb, 1), beta, C, ldc)
	e.Gemms++
	return nil
}

// matrix returns the rows×cols row-major matrix at p with leading dimension ld as floats.
func (e *Emulated) matrix(name string, p Ptr, rows, cols, ld int) ([]float32, error) {
	if rows == 0 || cols == 0 {
		return nil, nil
	}
	if ld < cols {
		return nil, errorf("emulated: gemm: %s has leading dimension %d < %d columns", name, ld, cols)
	}
	n := (rows-1)*ld + cols
	w, err := e.bytes(p, 4*n)
	if err != nil {
		return nil, errorf("emulated: gemm: %s (%d×%d, ld %d): %w", name, rows, cols, ld, err)
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&w[0])), n), nil
}

// Sync runs the queued pinned copies; every other emulated call completes before it returns.
func (e *Emulated) Sync() error { return e.flush() }
