package data

import "math/rand/v2"

// mix is SplitMix64's finaliser: it turns nearby inputs (seed, epoch, index) into unrelated
// 64-bit values, so per-item generators do not overlap.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// NewRNG returns a generator determined by seed and the given keys (for example epoch and
// index). Every random choice about one item comes from its own generator, so results do
// not depend on which worker handled the item or in what order.
func NewRNG(seed uint64, keys ...uint64) *rand.Rand {
	h := mix(seed)
	for _, k := range keys {
		h = mix(h ^ mix(k+0x632be59bd9b4e019))
	}
	return rand.New(rand.NewPCG(h, mix(h^0xd1b54a32d192ed03)))
}

// uniform returns a value in [lo, hi).
func uniform(rng *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*rng.Float64() }
