package optim

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// chunkElems is the size of the pieces that element-wise passes (the update, the clipping
// scale) are cut into for the workers: the concatenation of all parameters, in list order,
// is cut every chunkElems elements. Where the cuts fall changes no bit of an element-wise
// result (each element's update reads that element only), but they depend on the parameter
// sizes only, never on the number of CPUs, so that nothing a step does depends on the
// machine. 64 Ki float32 (256 KiB per slice) is large enough that handing out a chunk costs
// nothing next to updating it and small enough that the workers finish close together;
// totals of one chunk or less run on the calling goroutine.
const chunkElems = 64 << 10

// span is elements [lo, hi) of parameter i.
type span struct{ i, lo, hi int }

// chunkPlan is the cut: chunk k is spans[start[k]:start[k+1]], chunkElems elements in all
// except for the last chunk, which holds the rest.
type chunkPlan struct {
	spans []span
	start []int
}

// cut rebuilds the plan for params, reusing the plan's storage (no allocation once it has
// seen the same parameters).
func (c *chunkPlan) cut(params []*Param) {
	c.spans, c.start = c.spans[:0], c.start[:0]
	off := 0 // elements in the chunks so far
	for i, p := range params {
		n := len(p.Grad) // ClipGradNorm has only gradients; Step checked len(Value) == len(Grad)
		for lo := 0; lo < n; {
			if off%chunkElems == 0 {
				c.start = append(c.start, len(c.spans))
			}
			hi := min(n, lo+chunkElems-off%chunkElems)
			c.spans = append(c.spans, span{i, lo, hi})
			off += hi - lo
			lo = hi
		}
	}
	c.start = append(c.start, len(c.spans))
}

func (c *chunkPlan) chunks() int { return len(c.start) - 1 }

// chunk is the spans of chunk k.
func (c *chunkPlan) chunk(k int) []span { return c.spans[c.start[k]:c.start[k+1]] }

// forEachChunk calls f for every chunk k in [0, n), spread over runtime.GOMAXPROCS(0)
// goroutines (the caller's among them), and returns when all calls have returned. Workers
// take the next chunk as they finish one, so a worker slowed by another process on its CPU
// does less of the work instead of holding everyone up. Calls for different k run
// concurrently; f must only touch what chunk k owns.
func forEachChunk(n int, f func(k int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for k := 0; k < n; k++ {
			f(k)
		}
		return
	}
	var next atomic.Int64
	work := func() {
		for {
			k := int(next.Add(1) - 1)
			if k >= n {
				return
			}
			f(k)
		}
	}
	var wg sync.WaitGroup
	for w := 1; w < workers; w++ {
		wg.Go(work)
	}
	work()
	wg.Wait()
}
