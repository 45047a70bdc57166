//go:build cgo

package optim

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/ssl4dp/ssl4dp/ops/cuda/gpucheck"
)

// TestCUDASGDParity: the sgd_update kernel (ops/cuda/kernels/sgd.cu, under the emulator)
// against updateArgs.update, bit for bit, in every case the CPU has a loop for (momentum or
// not, first step or not, Nesterov or not, weight decay or not), with a −0 gradient and an
// infinite parameter among the values, on a length that is not a multiple of the block.
func TestCUDASGDParity(t *testing.T) {
	const n = 203
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func() []float32 {
		s := make([]float32, n)
		for i := range s {
			s[i] = float32(r.Float64()*2 - 1)
		}
		return s
	}
	p0, g0, v0 := rnd(), rnd(), rnd()
	g0[3] = float32(math.Copysign(0, -1))
	p0[4] = float32(math.Inf(1))
	for _, mu := range []float32{0, 0.9} {
		for _, wd := range []float32{0, 1e-4} {
			for _, first := range []bool{false, true} {
				for _, nesterov := range []bool{false, true} {
					if mu == 0 && (first || nesterov) {
						continue
					}
					a := updateArgs{lr: 0.05, wd: wd, mu: mu, first: first, nesterov: nesterov}
					p, v := append([]float32(nil), p0...), append([]float32(nil), v0...)
					a.update(p, g0, v)
					gp, gv := append([]float32(nil), p0...), append([]float32(nil), v0...)
					if err := gpucheck.Launch("sgd_update", [3]int{2, 1, 1}, [3]int{64, 1, 1}, 0, gp, g0, gv, n, a.lr, wd, mu, b2i(first), b2i(nesterov)); err != nil {
						t.Fatal(err)
					}
					for i := range p {
						if math.Float32bits(p[i]) != math.Float32bits(gp[i]) && !(p[i] != p[i] && gp[i] != gp[i]) {
							t.Fatalf("%+v: p[%d] = %v, want %v", a, i, gp[i], p[i])
						}
						if math.Float32bits(v[i]) != math.Float32bits(gv[i]) && !(v[i] != v[i] && gv[i] != gv[i]) {
							t.Fatalf("%+v: v[%d] = %v, want %v", a, i, gv[i], v[i])
						}
					}
				}
			}
		}
	}
}

func b2i(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

// TestCUDAGradNormParity: the squared gradient norm by sum_partial + sum_final against
// clipCoef's serial float64 sum, to 1e-6 (the kernels sum in another fixed order).
func TestCUDAGradNormParity(t *testing.T) {
	for _, n := range []int{1, 100, 5000} {
		g := make([]float32, n)
		r := rand.New(rand.NewPCG(3, uint64(n)))
		for i := range g {
			g[i] = float32(r.Float64()*2 - 1)
		}
		norm, _, err := clipCoef([]*Param{{Name: "w", Shape: []int{n}, Value: make([]float32, n), Grad: g}}, 1)
		if err != nil {
			t.Fatal(err)
		}
		const blocks = 3
		partial, out := make([]float32, blocks), make([]float32, 1)
		if err := gpucheck.Launch("sum_partial", [3]int{blocks, 1, 1}, [3]int{128, 1, 1}, 0, g, partial, n, 1); err != nil {
			t.Fatal(err)
		}
		if err := gpucheck.Launch("sum_final", [3]int{1, 1, 1}, [3]int{32, 1, 1}, 0, partial, out, blocks, 1); err != nil {
			t.Fatal(err)
		}
		if got := math.Sqrt(float64(out[0])); math.Abs(got-norm) > 1e-6*norm {
			t.Fatalf("n = %d: norm %v, want %v", n, got, norm)
		}
	}
}
