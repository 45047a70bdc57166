//go:build cgo

package emu

import (
	"io/fs"
	"math"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/ops/cuda/kernels"
)

func one(n int) [3]int { return [3]int{n, 1, 1} }

func TestCoords3D(t *testing.T) {
	grid, block := [3]int{3, 2, 2}, [3]int{4, 3, 2}
	out := make([]int32, 3*2*2*4*3*2)
	if err := Launch("emutest_coords", grid, block, 0, out); err != nil {
		t.Fatal(err)
	}
	i := 0
	for bz := 0; bz < 2; bz++ {
		for by := 0; by < 2; by++ {
			for bx := 0; bx < 3; bx++ {
				for tz := 0; tz < 2; tz++ {
					for ty := 0; ty < 3; ty++ {
						for tx := 0; tx < 4; tx++ {
							want := int32(tx | ty<<4 | tz<<8 | bx<<12 | by<<16 | bz<<20)
							if out[i] != want {
								t.Fatalf("thread %d: got %#x, want %#x", i, out[i], want)
							}
							i++
						}
					}
				}
			}
		}
	}
}

// TestBarrier: with __syncthreads the reversal is right in both thread orders; without it
// the result depends on the order, which is how the emulator exposes a missing barrier.
func TestBarrier(t *testing.T) {
	in := make([]float32, 2*8)
	for i := range in {
		in[i] = float32(i)
	}
	for _, racy := range []int32{0, 1} {
		fwd, rev := make([]float32, len(in)), make([]float32, len(in))
		if err := Launch("emutest_reverse", one(2), one(8), 8*4, in, fwd, racy); err != nil {
			t.Fatal(err)
		}
		if err := LaunchReverse("emutest_reverse", one(2), one(8), 8*4, in, rev, racy); err != nil {
			t.Fatal(err)
		}
		same := true
		for b := 0; b < 2; b++ {
			for i := 0; i < 8; i++ {
				want := in[b*8+7-i]
				if fwd[b*8+i] != want || rev[b*8+i] != want {
					same = false
				}
			}
		}
		if racy == 0 && !same {
			t.Errorf("with the barrier: got %v and %v", fwd, rev)
		}
		if racy == 1 && same {
			t.Errorf("without the barrier the reversal came out right in both orders: the emulator does not expose the race")
		}
	}
}

func TestBlockSumAnyWidth(t *testing.T) {
	for _, n := range []int{1, 2, 3, 7, 32, 100, 1024} {
		in := make([]float32, 2*n)
		for i := range in {
			in[i] = float32(i%13) - 4
		}
		out := make([]float32, 2)
		if err := Launch("emutest_block_sum", one(2), one(n), 0, in, out); err != nil {
			t.Fatal(err)
		}
		for b := 0; b < 2; b++ {
			var want float32
			for _, v := range in[b*n : (b+1)*n] {
				want += v
			}
			if out[b] != want {
				t.Errorf("width %d block %d: sum %v, want %v", n, b, out[b], want)
			}
		}
	}
}

func wantErr(t *testing.T, err error, sub string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), sub) {
		t.Fatalf("got error %v, want one containing %q", err, sub)
	}
}

func TestBarrierBugsAreErrors(t *testing.T) {
	out := make([]float32, 8)
	wantErr(t, Launch("emutest_early_return", one(1), one(8), 0, out), "returned while 5 wait at __syncthreads")
	wantErr(t, Launch("emutest_divergent_barrier", one(1), one(8), 0, out), "different __syncthreads")
	// The emulator is usable again after a failed launch.
	TestBarrier(t)
}

func TestOutOfBounds(t *testing.T) {
	y := make([]float32, 10)
	wantErr(t, Launch("emutest_oob", one(1), one(4), 0, y, int32(10), int32(0)), "element +0 past the end")
	wantErr(t, Launch("emutest_oob", one(1), one(4), 0, y, int32(10), int32(-11)), "element -1 past the start")
	if err := Launch("emutest_oob", one(1), one(4), 0, y, int32(10), int32(-1)); err != nil || y[9] != 1 {
		t.Fatalf("in-bounds write: %v, y[9] = %v", err, y[9])
	}
	wantErr(t, Launch("emutest_shared_oob", one(1), one(4), 16, int32(4)), "dynamic shared memory out of bounds (byte 16 of 16)")
}

func TestAtomics(t *testing.T) {
	count, maxid := []int32{0}, []int32{-1}
	if err := Launch("emutest_atomic", one(5), one(33), 0, count, maxid); err != nil {
		t.Fatal(err)
	}
	if count[0] != 5*33 || maxid[0] != 5*33-1 {
		t.Fatalf("count %d, max id %d; want %d, %d", count[0], maxid[0], 5*33, 5*33-1)
	}
}

func TestArguments(t *testing.T) {
	out := make([]float32, 3)
	if err := Launch("emutest_args", one(1), one(1), 0, out, []int32{7}, 5, float32(2.5)); err != nil {
		t.Fatal(err)
	}
	if out[0] != 5 || out[1] != 2.5 || out[2] != 7 {
		t.Fatalf("got %v, want [5 2.5 7]", out)
	}
	in := []int32{7}
	wantErr(t, Launch("emutest_args", one(1), one(1), 0, out, in, 5), "takes 4 arguments")
	wantErr(t, Launch("emutest_args", one(1), one(1), 0, out, in, 5, 2.5), "argument 3 is float32 (float), got float64")
	wantErr(t, Launch("emutest_args", one(1), one(1), 0, in, in, 5, float32(1)), "argument 0 is []float32 (float*), got []int32")
	wantErr(t, Launch("emutest_args", one(1), one(1), 0, out, out, 5, float32(1)), "argument 1 is []int32 (const int*), got []float32")
	wantErr(t, Launch("emutest_args", one(1), one(1), 0, out, in, int64(5), float32(1)), "argument 2 is int32 (int), got int64")
	wantErr(t, Launch("no_such_kernel", one(1), one(1), 0), `no kernel "no_such_kernel"`)
	wantErr(t, Launch("emutest_args", one(1), [3]int{512, 3, 1}, 0, out, in, 5, float32(1)), "1536 threads per block")
	wantErr(t, Launch("emutest_args", one(1), [3]int{1, 1, 65}, 0, out, in, 5, float32(1)), "blockDim exceeds")
	wantErr(t, Launch("emutest_args", [3]int{1, 65536, 1}, one(1), 0, out, in, 5, float32(1)), "gridDim.y")
	wantErr(t, Launch("emutest_args", one(1), one(1), 49153, out, in, 5, float32(1)), "dynamic shared memory")
}

// TestEveryKernelRegistered: each extern "C" __global__ kernel in the sources is launchable,
// and the emulator knows no kernel the sources lack.
func TestEveryKernelRegistered(t *testing.T) {
	want := SourceKernels(t)
	var got []string
	for _, k := range Kernels() {
		if !strings.HasPrefix(k, "emutest_") {
			got = append(got, k)
		}
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("the emulator registers %v; the sources define %v: add EMU_KERNEL lines to ops/cuda/emu/k_<family>.cc", got, want)
	}
}

var kernelDecl = regexp.MustCompile(`extern "C" __global__ void (\w+)\(`)

// SourceKernels lists the kernels defined in ops/cuda/kernels/*.cu, sorted.
func SourceKernels(t *testing.T) []string {
	t.Helper()
	files, err := fs.Glob(kernels.Sources, "*.cu")
	if err != nil || len(files) == 0 {
		t.Fatalf("no kernel sources: %v", err)
	}
	var out []string
	for _, f := range files {
		b, err := fs.ReadFile(kernels.Sources, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range kernelDecl.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
	}
	sort.Strings(out)
	return out
}

// TestInPlace: the same slice passed twice is one buffer, as device memory would be.
func TestInPlace(t *testing.T) {
	y := []float32{1, 2, 3}
	if err := Launch("scale", one(1), one(4), 0, y, float32(2), y, 3); err != nil {
		t.Fatal(err)
	}
	if y[0] != 2 || y[1] != 4 || y[2] != 6 {
		t.Fatalf("in-place scale gave %v, want [2 4 6]", y)
	}
}

// TestMathAccuracy: k_exp and k_log, which use only IEEE operations and so give the same bits
// on the device, are within 2 ulp of Go's math.Exp and math.Log (float64, rounded) over
// arguments from −87 to 88, subnormals, and exactly 0 for ln 1.
func TestMathAccuracy(t *testing.T) {
	var x []float32
	for v := -87.0; v <= 88; v += 0.0137 {
		x = append(x, float32(v))
	}
	for v := 1e-40; v < 1e30; v *= 1.37 {
		x = append(x, float32(v))
	}
	x = append(x, 1, math.SmallestNonzeroFloat32, math.MaxFloat32)
	e, l := make([]float32, len(x)), make([]float32, len(x))
	if err := Launch("emutest_math", one(4), one(128), 0, x, e, l, len(x)); err != nil {
		t.Fatal(err)
	}
	ulps := func(got float32, want float64) float64 {
		w := float32(want)
		ulp := math.Nextafter32(float32(math.Abs(float64(w))), float32(math.Inf(1))) - float32(math.Abs(float64(w)))
		return math.Abs(float64(got)-want) / float64(ulp)
	}
	for i, v := range x {
		if v <= 88 {
			if u := ulps(e[i], math.Exp(float64(v))); u > 2 && math.Exp(float64(v)) >= 0x1p-126 {
				t.Errorf("k_exp(%v) = %v, want %v: %.1f ulp", v, e[i], math.Exp(float64(v)), u)
			}
		}
		if v > 0 {
			if want := math.Log(float64(v)); ulps(l[i], want) > 2 && math.Abs(float64(l[i])-want) > 1e-7 {
				t.Errorf("k_log(%v) = %v, want %v: %.1f ulp", v, l[i], want, ulps(l[i], want))
			}
		}
	}
	if l[len(x)-3] != 0 {
		t.Errorf("k_log(1) = %v, want 0", l[len(x)-3])
	}
}

// TestStaticSharedIsFreshPerBlock: static __shared__ memory starts as NaN in every block.
func TestStaticSharedIsFreshPerBlock(t *testing.T) {
	out := make([]float32, 2*32)
	if err := Launch("emutest_shared_leftover", one(2), one(32), 0, out); err != nil {
		t.Fatal(err)
	}
	for i, v := range out {
		if (i < 32) != (v == 1) || (i >= 32 && v == v) {
			t.Fatalf("out[%d] = %v: block 0 wrote 1, block 1 must read NaN", i, v)
		}
	}
}

// TestOverlapRefused: two different but overlapping slices cannot be emulated faithfully.
func TestOverlapRefused(t *testing.T) {
	y := make([]float32, 8)
	wantErr(t, Launch("scale", one(1), one(4), 0, y[:6], float32(2), y[2:], 6), "arguments 0 and 2 are overlapping")
}
