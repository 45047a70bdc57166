//go:build cgo

package ops

// Parity of the CUDA kernels (ops/cuda/kernels) with the CPU ops they mirror, run on the CPU
// under the emulator (ops/cuda/emu). Every launch runs twice, with each block's threads in
// ascending and in descending order, and must give the same bits both times (no race, no
// order-dependent reduction); outputs start as NaN so that an element the kernel forgets to
// write fails. Tolerances: elementwise kernels match to 1e-5 relative or exactly; reductions
// to ~1e-4, because they sum in a different (fixed) order than the CPU's eight-accumulator
// float64 sums — the kernels accumulate in double too, so they usually agree much closer.

import (
	"math"
	"math/rand/v2"
	"testing"

	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/cuda/emu"
	"github.com/ssl4dp/ssl4dp/ops/cuda/gpucheck"
)

// cuRun launches kernel in both thread orders and fails unless both succeed with the same
// bits in every slice argument; the first run's results are left in args. With SSL4DP_GPU=1
// (scripts/gpu_check.sh) the first launch also runs on the GPU and must give its bits
// (ops/cuda/gpucheck).
func cuRun(t *testing.T, kernel string, grid, block [3]int, shared int, args ...any) {
	t.Helper()
	second := make([]any, len(args))
	clones := map[any]any{} // keeps aliasing: the same slice twice stays one slice
	for i, a := range args {
		switch v := a.(type) {
		case []float32:
			if len(v) > 0 && clones[&v[0]] != nil {
				second[i] = clones[&v[0]]
				continue
			}
			c := append([]float32(nil), v...)
			if len(v) > 0 {
				clones[&v[0]] = c
			}
			second[i] = c
		case []int32:
			if len(v) > 0 && clones[&v[0]] != nil {
				second[i] = clones[&v[0]]
				continue
			}
			c := append([]int32(nil), v...)
			if len(v) > 0 {
				clones[&v[0]] = c
			}
			second[i] = c
		default:
			second[i] = a
		}
	}
	if err := gpucheck.Launch(kernel, grid, block, shared, args...); err != nil {
		t.Fatal(err)
	}
	if err := emu.LaunchReverse(kernel, grid, block, shared, second...); err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		switch v := a.(type) {
		case []float32:
			w := second[i].([]float32)
			for j := range v {
				if math.Float32bits(v[j]) != math.Float32bits(w[j]) {
					t.Fatalf("%s argument %d element %d: %v in ascending thread order, %v in descending: a race or an order-dependent sum", kernel, i, j, v[j], w[j])
				}
			}
		case []int32:
			w := second[i].([]int32)
			for j := range v {
				if v[j] != w[j] {
					t.Fatalf("%s argument %d element %d: %v in ascending thread order, %v in descending", kernel, i, j, v[j], w[j])
				}
			}
		}
	}
}

// cuGrid is a 1-D grid of at most 3 blocks of 64 threads for n elements: few enough that
// the kernels' grid-stride loops go round more than once on the larger test shapes.
func cuGrid(n int) (grid, block [3]int) {
	return [3]int{max(1, min(3, (n+63)/64)), 1, 1}, [3]int{64, 1, 1}
}

func cu1(n int) [3]int { return [3]int{n, 1, 1} }

// cuNaN is an output buffer of n NaNs.
func cuNaN(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}

// cuRand is n seeded uniform values in [-1, 1).
func cuRand(seed uint64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(r.Float64()*2 - 1)
	}
	return s
}

// cuExact requires the same bits (any NaN equals any NaN).
func cuExact(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements, want %d", what, len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if math.Float32bits(g) != math.Float32bits(w) && !(g != g && w != w) {
			t.Fatalf("%s[%d] = %v, want %v exactly", what, i, g, w)
		}
	}
}

// cuClose requires |got − want| ≤ rtol·max(|want|, rms(want)) elementwise: relative, with the
// values' own scale as the floor near zero.
func cuClose(t *testing.T, what string, got, want []float32, rtol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements, want %d", what, len(got), len(want))
	}
	var ss float64
	for _, w := range want {
		ss += float64(w) * float64(w)
	}
	rms := math.Sqrt(ss / float64(max(1, len(want))))
	worst, at := 0.0, -1
	for i := range got {
		g, w := float64(got[i]), float64(want[i])
		if math.IsNaN(g) != math.IsNaN(w) {
			t.Fatalf("%s[%d] = %v, want %v", what, i, g, w)
		}
		if math.IsNaN(w) {
			continue
		}
		if e := math.Abs(g-w) / max(math.Abs(w), rms, 1e-30); e > worst {
			worst, at = e, i
		}
	}
	if worst > rtol {
		t.Fatalf("%s[%d] = %v, want %v: relative error %.3g > %.3g", what, at, got[at], want[at], worst, rtol)
	}
}

// cuSizes are the ragged lengths the elementwise tests take: one element, just under and over
// the block, and more than the grid covers in one stride.
var cuSizes = []int{1, 63, 65, 1000}

func TestCUDAReluParity(t *testing.T) {
	for _, n := range cuSizes {
		x := cuRand(1, n)
		x[0] = float32(math.Copysign(0, -1))
		if n > 3 {
			x[1], x[2], x[3] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
		}
		want := make([]float32, n)
		reluForward(x, want)
		y := cuNaN(n)
		grid, block := cuGrid(n)
		cuRun(t, "relu_fwd", grid, block, 0, x, y, n)
		cuExact(t, "relu_fwd", y, want)

		dy := cuRand(2, n)
		wantDx := make([]float32, n)
		reluBackward(x, dy, wantDx)
		dx := cuNaN(n)
		cuRun(t, "relu_bwd", grid, block, 0, x, dy, dx, n)
		cuExact(t, "relu_bwd", dx, wantDx)
	}
}

func TestCUDAArithParity(t *testing.T) {
	for _, sh := range [][3]int{{1, 1, 1}, {2, 3, 5}, {3, 1, 70}, {1, 17, 9}} {
		n, c, inner := sh[0], sh[1], sh[2]
		size := n * c * inner
		grid, block := cuGrid(size)
		x, b := cuRand(3, size), cuRand(4, size)
		full := tensor.Shape{n, c, inner}

		// add and mul: the CPU's same-shape Add and Mul.
		want := make([]float32, size)
		arithSame(arithAdd, x, b, want)
		y := cuNaN(size)
		cuRun(t, "add", grid, block, 0, x, b, y, size)
		cuExact(t, "add", y, want)

		want = make([]float32, size)
		arithSame(arithMul, x, b, want)
		y = cuNaN(size)
		cuRun(t, "mul", grid, block, 0, x, b, y, size)
		cuExact(t, "mul", y, want)

		// add_bias: Add broadcasting a [1, C, 1] bias, through the CPU op.
		bias := cuRand(5, c)
		op := arithOp{kind: arithAdd, a: full, b: tensor.Shape{1, c, 1}, out: full, buf: &outBuf{}}
		v, err := arithDo[float32](op, newValue(full, x), newValue(tensor.Shape{1, c, 1}, bias))
		if err != nil {
			t.Fatal(err)
		}
		y = cuNaN(size)
		cuRun(t, "add_bias", grid, block, 0, x, bias, y, size, c, inner)
		cuExact(t, "add_bias", y, elems[float32](v.(*tensor.Dense)))

		// scale, in place.
		want = make([]float32, size)
		for i, v := range x {
			want[i] = 0.3 * v
		}
		y = append([]float32(nil), x...)
		cuRun(t, "scale", grid, block, 0, y, float32(0.3), y, size)
		cuExact(t, "scale", y, want)

		// axpby, in place: pretext.EMA.Update's t·a + o·b, two float32 roundings.
		a, bb := float32(0.99), float32(1-0.99)
		want = make([]float32, size)
		for i := range x {
			want[i] = x[i]*a + b[i]*bb
		}
		y = append([]float32(nil), x...)
		cuRun(t, "axpby", grid, block, 0, y, b, a, bb, size)
		cuExact(t, "axpby", y, want)

		// bn_merge, in place: pretext's bnMerge.after, m·r1 + s1 − m·r0.
		r0 := cuRand(6, size)
		want = make([]float32, size)
		for i := range x {
			want[i] = a*x[i] + b[i] - a*r0[i]
		}
		y = append([]float32(nil), x...)
		cuRun(t, "bn_merge", grid, block, 0, y, b, r0, a, size)
		cuExact(t, "bn_merge", y, want)

		y = cuNaN(size)
		cuRun(t, "fill", grid, block, 0, y, float32(2), size)
		for i := range want {
			want[i] = 2
		}
		cuExact(t, "fill", y, want)
	}
}
