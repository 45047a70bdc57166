package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// maxPoolFastCases cover every path of planeArgmax: the 3×3 and 2×2 interior loops and the
// generic one (other kernels, dilation), border windows on every side (ragged right and bottom
// edges, asymmetric pads, ceil mode), windows of padding only, and planes with no interior.
var maxPoolFastCases = []struct {
	name string
	x    []int
	p    PoolParams
}{
	{"3x3 s2 p1 (resnet stem)", []int{2, 3, 16, 16}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}},
	{"3x3 s2 p1 ragged", []int{1, 3, 13, 10}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}},
	{"3x3 s1 p1", []int{1, 2, 9, 11}, PoolParams{Kernel: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}}},
	{"3x3 s1 no pad", []int{1, 2, 7, 8}, PoolParams{Kernel: [2]int{3, 3}}},
	{"3x3 s3 ragged", []int{1, 2, 11, 13}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{3, 3}, Pads: [4]int{0, 2, 1, 0}}},
	{"3x3 s2 asym pads ceil", []int{1, 2, 12, 9}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{2, 0, 1, 2}, CeilMode: true}},
	{"3x3 s1x2", []int{1, 2, 8, 9}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{1, 2}, Pads: [4]int{1, 0, 0, 1}}},
	{"2x2 s2", []int{2, 2, 10, 12}, PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}},
	{"2x2 s2 ragged ceil", []int{1, 2, 9, 11}, PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, CeilMode: true}},
	{"2x2 s1 p1", []int{1, 2, 7, 6}, PoolParams{Kernel: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}},
	{"2x2 s3 p1 ceil", []int{1, 2, 11, 10}, PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{3, 3}, Pads: [4]int{1, 1, 1, 1}, CeilMode: true}},
	{"3x3 dilation 2", []int{1, 2, 13, 12}, PoolParams{Kernel: [2]int{3, 3}, Dilation: [2]int{2, 2}, Pads: [4]int{2, 1, 2, 2}}},
	{"2x2 dilation 2 s2 ceil", []int{1, 2, 10, 11}, PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Dilation: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 0}, CeilMode: true}},
	{"3x2 dilation 2x3", []int{1, 2, 9, 12}, PoolParams{Kernel: [2]int{3, 2}, Dilation: [2]int{2, 3}, Pads: [4]int{1, 1, 1, 1}}},
	{"5x4 s2", []int{1, 2, 15, 14}, PoolParams{Kernel: [2]int{5, 4}, Stride: [2]int{2, 2}, Pads: [4]int{2, 1, 2, 3}}},
	{"1x1 s2", []int{1, 2, 5, 6}, PoolParams{Kernel: [2]int{1, 1}, Stride: [2]int{2, 2}}},
	{"padding-only windows", []int{1, 2, 2, 5}, PoolParams{Kernel: [2]int{2, 2}, Dilation: [2]int{3, 1}, Pads: [4]int{1, 1, 1, 1}}},
	{"no interior", []int{1, 2, 3, 3}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{2, 2, 2, 2}}},
	{"window wider than plane", []int{1, 2, 4, 2}, PoolParams{Kernel: [2]int{2, 3}, Pads: [4]int{1, 2, 1, 2}}},
}

// maxPoolTestValues returns n values of one kind: "random" (all distinct), "ties" (a few
// levels, ±0 among them, so that windows tie often and zeros of both signs compete), or "nan"
// (random with infinities and NaNs of both signs and several payloads, in some planes only).
func maxPoolTestValues(kind string, n, hw int, r *rand.Rand) []float64 {
	v := make([]float64, n)
	negNaN := math.Float64frombits(0xfff8000000000000)
	payload := math.Float64frombits(0x7ff8123400000000) // its float32 keeps part of the payload
	for i := range v {
		switch kind {
		case "random":
			v[i] = r.Float64()*2 - 1
		case "ties":
			v[i] = []float64{-1, -0.5, math.Copysign(0, -1), 0, 0.5}[r.IntN(5)]
		case "nan":
			v[i] = r.Float64()*2 - 1
			if (i/hw)%3 != 0 { // leave every third plane without NaN
				switch r.IntN(40) {
				case 0:
					v[i] = math.NaN()
				case 1:
					v[i] = negNaN
				case 2:
					v[i] = payload
				case 3:
					v[i] = math.Inf(1)
				case 4:
					v[i] = math.Inf(-1)
				}
			}
		}
	}
	return v
}

// TestMaxPoolFastPathsMatchReference checks the kernels against refMaxPool and
// refMaxPoolBackward bit for bit (NaN payloads and the signs of zeros included), in both
// precisions and for any number of CPUs.
func TestMaxPoolFastPathsMatchReference(t *testing.T) {
	saved := minParallelWork
	minParallelWork = 0
	defer func() { minParallelWork = saved }()
	for _, c := range maxPoolFastCases {
		for _, kind := range []string{"random", "ties", "nan"} {
			t.Run(fmt.Sprintf("%s/%s", c.name, kind), func(t *testing.T) {
				gr := G.NewGraph()
				g, err := poolGeom("MaxPool2D", G.NewTensor(gr, tensor.Float64, 4, G.WithShape(c.x...)), c.p)
				if err != nil {
					t.Fatal(err)
				}
				planes := c.x[0] * c.x[1]
				r := rand.New(rand.NewPCG(uint64(len(c.name)), uint64(len(kind))))
				x := maxPoolTestValues(kind, planes*g.H*g.W, g.H*g.W, r)
				dy := maxPoolTestValues("ties", planes*g.OH*g.OW, g.OH*g.OW, r) // ±0 gradients too
				checkMaxPoolKernels(t, &g, planes, x, dy)
				checkMaxPoolKernels(t, &g, planes, maxPoolTo32(x), maxPoolTo32(dy))
			})
		}
	}
}

func maxPoolTo32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x) // NaNs keep their signs and top payload bits, zeros their signs
	}
	return out
}

func checkMaxPoolKernels[T Float](t *testing.T, g *geom2D, planes int, x, dy []T) {
	t.Helper()
	lowest := math.MaxFloat64
	if _, ok := any(x).([]float32); ok {
		lowest = math.MaxFloat32
	}
	wantY, wantDx := make([]T, len(dy)), make([]T, len(x))
	refMaxPool(g, planes, x, wantY, lowest)
	refMaxPoolBackward(g, planes, x, dy, wantDx)
	for _, procs := range []int{1, 2, 3} {
		prev := runtime.GOMAXPROCS(procs)
		y, dx := make([]T, len(dy)), make([]T, len(x))
		for i := range dx {
			dx[i] = T(math.NaN()) // the backward must overwrite all of dx
		}
		maxPool(g, planes, x, y, lowest)
		maxPoolBackward(g, planes, x, dy, dx)
		runtime.GOMAXPROCS(prev)
		if i := maxPoolBitDiff(y, wantY); i >= 0 {
			t.Fatalf("%T, %d CPUs: y[%d] = %v, want %v", x, procs, i, y[i], wantY[i])
		}
		if i := maxPoolBitDiff(dx, wantDx); i >= 0 {
			t.Fatalf("%T, %d CPUs: dx[%d] = %v, want %v", x, procs, i, dx[i], wantDx[i])
		}
	}
}

// maxPoolBitDiff returns the first index where a and b differ in bits, or −1.
func maxPoolBitDiff[T Float](a, b []T) int {
	for i := range a {
		if maxPoolBits(a[i]) != maxPoolBits(b[i]) {
			return i
		}
	}
	return -1
}

func maxPoolBits[T Float](v T) uint64 {
	if f, ok := any(v).(float32); ok {
		return uint64(math.Float32bits(f))
	}
	return math.Float64bits(float64(v))
}

// refMaxPool and refMaxPoolBackward are the kernels as first written: windowMax at every
// output position, every tap checked against the padding. The fast paths must match them bit
// for bit.
func refMaxPool[T Float](g *geom2D, planes int, x, y []T, lowest float64) {
	hw, ohw := g.H*g.W, g.OH*g.OW
	for pl := 0; pl < planes; pl++ {
		xp, yp := x[pl*hw:(pl+1)*hw], y[pl*ohw:(pl+1)*ohw]
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				best, at := windowMax(g, xp, oh, ow)
				if at < 0 {
					best = T(-lowest)
				}
				yp[oh*g.OW+ow] = best
			}
		}
	}
}

func refMaxPoolBackward[T Float](g *geom2D, planes int, x, dy, dx []T) {
	hw, ohw := g.H*g.W, g.OH*g.OW
	clear(dx)
	for pl := 0; pl < planes; pl++ {
		xp, dyp, dxp := x[pl*hw:(pl+1)*hw], dy[pl*ohw:(pl+1)*ohw], dx[pl*hw:(pl+1)*hw]
		for oh := 0; oh < g.OH; oh++ {
			for ow := 0; ow < g.OW; ow++ {
				if _, at := windowMax(g, xp, oh, ow); at >= 0 {
					dxp[at] += dyp[oh*g.OW+ow]
				}
			}
		}
	}
}

// BenchmarkMaxPool3x3s2 is ResNet-18's stem max pool (3x3, stride 2, pad 1) on [8, 64, 64, 64]
// float32: the forward pass and the gradient with respect to x, backpropagating a fixed output
// gradient, on a tape machine.
func BenchmarkMaxPool3x3s2(b *testing.B) {
	g := G.NewGraph()
	xn := G.NodeFromAny(g, aRand(tensor.Float32, 1, 8, 64, 64, 64), G.WithName("x"))
	y, err := MaxPool2D(xn, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}})
	if err != nil {
		b.Fatal(err)
	}
	dy := G.NodeFromAny(g, aRand(tensor.Float32, 3, y.Shape()...), G.WithName("dy"))
	if _, err := G.Backpropagate(G.Nodes{y}, G.Nodes{dy}, G.Nodes{xn}); err != nil {
		b.Fatal(err)
	}
	prof := benchMachine(b, g, true)
	// The two kernels alone, without the machine's own work around them.
	for _, r := range prof.Rows() {
		if r.Op == "MaxPool" {
			unit := "fwd-ms/op"
			if r.Backward {
				unit = "bwd-ms/op"
			}
			b.ReportMetric(r.Seconds*1e3/float64(b.N), unit)
		}
	}
}
