package evaluate

import (
	"math"
	"math/rand/v2"
	"testing"
)

// The adjoint satisfies ⟨R x, y⟩ = ⟨x, Rᵀ y⟩ for random x and y, up- and downsampling and
// odd sizes: the linear probe's gradient through the resize is exactly the transpose.
func TestResizeBilinearAdjointIsTranspose(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range [][4]int{{4, 4, 16, 16}, {3, 5, 7, 11}, {8, 6, 3, 4}, {1, 1, 5, 3}, {5, 5, 5, 5}} {
		h, w, oh, ow := s[0], s[1], s[2], s[3]
		k := 2
		x := make([]float32, k*h*w)
		y := make([]float32, k*oh*ow)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		for i := range y {
			y[i] = rng.Float32()*2 - 1
		}
		rx := ResizeBilinear(x, k, h, w, oh, ow)
		ry := ResizeBilinearAdjoint(y, k, h, w, oh, ow)
		var a, b float64
		for i := range rx {
			a += float64(rx[i]) * float64(y[i])
		}
		for i := range x {
			b += float64(x[i]) * float64(ry[i])
		}
		if math.Abs(a-b) > 1e-5*(1+math.Abs(a)) {
			t.Errorf("%v: <Rx,y> = %v, <x,Rᵀy> = %v", s, a, b)
		}
	}
}
