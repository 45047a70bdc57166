package retrieval

import (
	"math"
	"runtime"
	"sync"
)

// piece is how many queries one goroutine searches at a time; fixed, so the work split
// does not depend on the CPU count (and each query's result depends only on itself).
const piece = 64

// dot is the similarity of two unit vectors, summed in index order in float32 — the brute
// force reference uses the same function, so the search is pinned bit for bit.
func dot(a, b []float32) float32 {
	var s float32
	for i, v := range a {
		s += v * b[i]
	}
	return s
}

// dot4 is dot of q with four consecutive rows of keys at once (four independent sums, each
// in index order: the same bits as four calls of dot, about twice as fast).
func dot4(q, keys []float32) (s0, s1, s2, s3 float32) {
	c := len(q)
	r0, r1, r2, r3 := keys[:c], keys[c:2*c], keys[2*c:3*c], keys[3*c:4*c]
	for j, v := range q {
		s0 += v * r0[j]
		s1 += v * r1[j]
		s2 += v * r2[j]
		s3 += v * r3[j]
	}
	return
}

// Predict returns the label distribution [M,K] of each query (rows of queries [M,C], unit
// length) from its k nearest keys with softmax weights at the given temperature.
func (b *Bank) Predict(queries []float32, k int, temperature float64) []float32 {
	m := len(queries) / b.C
	out := make([]float32, m*b.K)
	k = min(k, b.Len())
	pieces := (m + piece - 1) / piece
	var wg sync.WaitGroup
	next := make(chan int, pieces)
	for p := range pieces {
		next <- p
	}
	close(next)
	for range min(runtime.GOMAXPROCS(0), pieces) {
		wg.Go(func() {
			top := newTopK(k)
			for p := range next {
				for q := p * piece; q < min((p+1)*piece, m); q++ {
					b.predictOne(queries[q*b.C:(q+1)*b.C], top, temperature, out[q*b.K:(q+1)*b.K])
				}
			}
		})
	}
	wg.Wait()
	return out
}

func (b *Bank) predictOne(q []float32, top *topK, temperature float64, out []float32) {
	top.reset()
	n, c := b.Len(), b.C
	i := 0
	for ; i+4 <= n; i += 4 {
		s0, s1, s2, s3 := dot4(q, b.Keys[i*c:(i+4)*c])
		top.offer(s0, i)
		top.offer(s1, i+1)
		top.offer(s2, i+2)
		top.offer(s3, i+3)
	}
	for ; i < n; i++ {
		top.offer(dot(q, b.Keys[i*c:(i+1)*c]), i)
	}
	idx, sims := top.sorted()
	b.mix(idx, sims, temperature, out)
}

// mix writes Σ_j softmax(sims/T)_j · Values[idx_j] into out (sims in descending order, so
// the first is the maximum).
func (b *Bank) mix(idx []int, sims []float32, temperature float64, out []float32) {
	clear(out)
	if len(idx) == 0 {
		return
	}
	w := make([]float64, len(idx))
	var z float64
	for j, s := range sims {
		w[j] = math.Exp((float64(s) - float64(sims[0])) / temperature)
		z += w[j]
	}
	for j, i := range idx {
		f := float32(w[j] / z)
		for l, v := range b.Values[i*b.K : (i+1)*b.K] {
			out[l] += f * v
		}
	}
}

// topK keeps the k largest similarities seen, ties to the lower index, in a min-heap
// whose root is the worst kept (lowest similarity, then highest index).
type topK struct {
	k    int
	sim  []float32
	idx  []int
	outI []int
	outS []float32
}

func newTopK(k int) *topK { return &topK{k: k} }

func (t *topK) reset() { t.sim, t.idx = t.sim[:0], t.idx[:0] }

// worse reports whether entry a ranks below entry b.
func (t *topK) worse(a, b int) bool {
	if t.sim[a] != t.sim[b] {
		return t.sim[a] < t.sim[b]
	}
	return t.idx[a] > t.idx[b]
}

func (t *topK) offer(s float32, i int) {
	if len(t.sim) < t.k {
		t.sim, t.idx = append(t.sim, s), append(t.idx, i)
		for c := len(t.sim) - 1; c > 0; {
			p := (c - 1) / 2
			if !t.worse(c, p) {
				break
			}
			t.swap(c, p)
			c = p
		}
		return
	}
	// Indices arrive in increasing order, so an equal similarity never displaces a kept one.
	if t.k == 0 || !(s > t.sim[0]) {
		return
	}
	t.sim[0], t.idx[0] = s, i
	t.down(0, len(t.sim))
}

func (t *topK) swap(a, b int) {
	t.sim[a], t.sim[b] = t.sim[b], t.sim[a]
	t.idx[a], t.idx[b] = t.idx[b], t.idx[a]
}

func (t *topK) down(c, n int) {
	for {
		l := 2*c + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && t.worse(r, l) {
			m = r
		}
		if !t.worse(m, c) {
			return
		}
		t.swap(c, m)
		c = m
	}
}

// sorted returns the kept entries best first (heap sort; the heap is consumed).
func (t *topK) sorted() ([]int, []float32) {
	n := len(t.sim)
	for end := n - 1; end > 0; end-- {
		t.swap(0, end)
		t.down(0, end)
	}
	// Now worst-first from the root's removals: position 0 is the best.
	t.outI = append(t.outI[:0], t.idx...)
	t.outS = append(t.outS[:0], t.sim...)
	return t.outI, t.outS
}
