package ops

import (
	"runtime"
	"sync"
)

// minParallelWork is the number of element operations below which splitting a loop across
// goroutines costs more than it saves. A variable so tests can force the split on tiny inputs.
var minParallelWork = 1 << 15

// parallelFor runs fn over [0, n) split into contiguous chunks, one per available CPU, when
// the whole loop does at least minParallelWork element operations (work); otherwise inline.
// Chunks must write disjoint memory. The loops it serves (depthwise convolution, pooling,
// BatchNorm) are memory-bound Go code that BLAS does not parallelise for us.
func parallelFor(n, work int, fn func(lo, hi int)) {
	p := min(runtime.GOMAXPROCS(0), n)
	if p < 2 || work < minParallelWork {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < p; i++ {
		lo, hi := i*n/p, (i+1)*n/p
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}
