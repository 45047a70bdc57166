package ops

import "sync"

// Scratch buffers for im2col and friends. A training step runs its ops one after another, so
// a handful of buffers, grown to the largest request and kept for the life of the program,
// serve every layer: no per-step allocation and no per-layer copy of the largest im2col matrix.
// (sync.Pool would be emptied by every other GC and reallocate megabytes per step.)

// maxKeptScratch bounds how many free buffers a pool keeps: as many as one op holds at once
// (the per-image weight gradient: convWGroups−1 partial sums and a column matrix per CPU on
// two CPUs), so that steady training allocates none. More are only needed when several
// machines run at once, and those extra buffers are left to the GC.
const maxKeptScratch = 8

type scratchPool[T Float] struct {
	mu   sync.Mutex
	free [][]T
}

var (
	scratch32 scratchPool[float32]
	scratch64 scratchPool[float64]
)

func poolFor[T Float]() *scratchPool[T] {
	var z T
	switch any(z).(type) {
	case float32:
		return any(&scratch32).(*scratchPool[T])
	default:
		return any(&scratch64).(*scratchPool[T])
	}
}

// getScratch returns a buffer of length n with unspecified contents.
func getScratch[T Float](n int) []T {
	p := poolFor[T]()
	p.mu.Lock()
	defer p.mu.Unlock()
	// Take the smallest free buffer that fits; else grow the largest so the pool converges on
	// buffers of the sizes the model needs.
	best := -1
	for i, b := range p.free {
		if cap(b) >= n && (best < 0 || cap(b) < cap(p.free[best])) {
			best = i
		}
	}
	if best < 0 {
		if len(p.free) == 0 {
			return make([]T, n)
		}
		largest := 0
		for i, b := range p.free {
			if cap(b) > cap(p.free[largest]) {
				largest = i
			}
		}
		p.free = append(p.free[:largest], p.free[largest+1:]...)
		return make([]T, n)
	}
	b := p.free[best]
	p.free = append(p.free[:best], p.free[best+1:]...)
	return b[:n]
}

// putScratch hands a buffer from getScratch back.
func putScratch[T Float](b []T) {
	p := poolFor[T]()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.free) < maxKeptScratch {
		p.free = append(p.free, b[:cap(b)])
	}
}

// ScratchKeptBytes is what the scratch pools hold between ops: the free buffers kept for
// the next request (bench train reports it beside the memory plan).
func ScratchKeptBytes() int64 {
	var n int64
	scratch32.mu.Lock()
	for _, b := range scratch32.free {
		n += int64(cap(b)) * 4
	}
	scratch32.mu.Unlock()
	scratch64.mu.Lock()
	for _, b := range scratch64.free {
		n += int64(cap(b)) * 8
	}
	scratch64.mu.Unlock()
	return n
}
