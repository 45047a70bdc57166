package ops

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The multi-accumulator sums equal a plain serial float64 sum to rounding, for every tail
// length, in float32 and float64.
func TestChannelSums(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 63, 1000, 4099} {
		x32, g32 := make([]float32, n), make([]float32, n)
		for i := range x32 {
			x32[i], g32[i] = float32(r.NormFloat64()+3), float32(r.NormFloat64())
		}
		const mean = 2.75
		var s, ss, dot, gsum, abs float64
		for i, v := range x32 {
			d := float64(v) - mean
			s, ss, dot, gsum = s+float64(v), ss+d*d, dot+float64(g32[i])*d, gsum+float64(g32[i])
			abs += math.Abs(float64(v)) + math.Abs(float64(g32[i])*d) + math.Abs(float64(g32[i]))
		}
		tol := 1e-13 * (abs + 1)
		x64, g64 := make([]float64, n), make([]float64, n)
		for i := range x32 {
			x64[i], g64[i] = float64(x32[i]), float64(g32[i])
		}
		for _, c := range []struct {
			name      string
			got, want float64
		}{
			{"sum32", sumF64(x32), s}, {"sum64", sumF64(x64), s},
			{"sqdev32", sumSqDevF64(x32, mean), ss}, {"sqdev64", sumSqDevF64(x64, mean), ss},
			{"dotdev32", first(dotDevSumF64(g32, x32, mean)), dot}, {"dotdev64", first(dotDevSumF64(g64, x64, mean)), dot},
			{"dotdevsum32", second(dotDevSumF64(g32, x32, mean)), gsum}, {"dotdevsum64", second(dotDevSumF64(g64, x64, mean)), gsum},
		} {
			if math.Abs(c.got-c.want) > tol {
				t.Errorf("n=%d %s: %v, serial sum %v", n, c.name, c.got, c.want)
			}
		}
	}
}

func first(a, _ float64) float64  { return a }
func second(_, b float64) float64 { return b }
