package ops

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

type poolCase struct {
	name   string
	x      []int
	p      PoolParams
	oh, ow int // expected output size
}

var maxPoolCases = []poolCase{
	{"k3 s2 p1 (resnet stem)", []int{2, 2, 7, 6}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}, 4, 3},
	{"k2 s2", []int{1, 2, 4, 6}, PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}, 2, 3},
	{"ceil", []int{1, 2, 5, 7}, PoolParams{Kernel: [2]int{2, 3}, Stride: [2]int{2, 2}, CeilMode: true}, 3, 3},
	{"ceil drops window in pad", []int{1, 1, 5, 5}, PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, CeilMode: true}, 3, 3},
	{"dilation", []int{1, 2, 7, 7}, PoolParams{Kernel: [2]int{3, 2}, Dilation: [2]int{2, 3}, Pads: [4]int{1, 1, 1, 1}}, 5, 6},
	{"asym pads", []int{2, 1, 5, 6}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 1}, Pads: [4]int{2, 0, 0, 1}}, 3, 5},
	{"dilation ceil stride", []int{1, 1, 8, 9}, PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{3, 2}, Dilation: [2]int{2, 2}, Pads: [4]int{1, 0, 1, 1}, CeilMode: true}, 3, 5},
}

var avgPoolCases = []poolCase{
	{"k3 s2 p1 incl", []int{2, 2, 7, 6}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, CountIncludePad: true}, 4, 3},
	{"k3 s2 p1 excl", []int{2, 2, 7, 6}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}}, 4, 3},
	{"k2 s2", []int{1, 2, 4, 6}, PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}, 2, 3},
	{"ceil incl", []int{1, 2, 5, 7}, PoolParams{Kernel: [2]int{2, 3}, Stride: [2]int{2, 2}, CeilMode: true, CountIncludePad: true}, 3, 3},
	{"ceil excl", []int{1, 2, 5, 7}, PoolParams{Kernel: [2]int{2, 3}, Stride: [2]int{2, 2}, CeilMode: true}, 3, 3},
	{"ceil pad incl", []int{1, 1, 5, 6}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, CeilMode: true, CountIncludePad: true}, 3, 4},
	{"ceil drops window in pad", []int{1, 1, 5, 5}, PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}, CeilMode: true, CountIncludePad: true}, 3, 3},
	{"asym pads incl", []int{2, 1, 5, 6}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 1}, Pads: [4]int{2, 0, 0, 1}, CountIncludePad: true}, 3, 5},
	{"asym pads excl", []int{2, 1, 5, 6}, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{2, 1}, Pads: [4]int{2, 0, 0, 1}}, 3, 5},
}

// directPool is the definition, tap by tap: max over the real taps, or the sum over real taps
// divided by the real count or by the window clipped to the padded input.
func directPool(x *tensor.Dense, p PoolParams, oh, ow int, isMax bool) []float64 {
	xs := x.Shape()
	h, w := xs[2], xs[3]
	xv := aF64(x)
	s := [2]int{oneIfZero(p.Stride[0]), oneIfZero(p.Stride[1])}
	d := [2]int{oneIfZero(p.Dilation[0]), oneIfZero(p.Dilation[1])}
	var out []float64
	for pl := 0; pl < xs[0]*xs[1]; pl++ {
		for y := 0; y < oh; y++ {
			for z := 0; z < ow; z++ {
				best, sum, real := math.Inf(-1), 0.0, 0
				padded := 0
				for i := 0; i < p.Kernel[0]; i++ {
					for j := 0; j < p.Kernel[1]; j++ {
						ih := y*s[0] - p.Pads[0] + i*d[0]
						iw := z*s[1] - p.Pads[1] + j*d[1]
						if ih < h+p.Pads[2] && iw < w+p.Pads[3] {
							padded++
						}
						if ih < 0 || ih >= h || iw < 0 || iw >= w {
							continue
						}
						v := xv[(pl*h+ih)*w+iw]
						best = math.Max(best, v)
						sum += v
						real++
					}
				}
				switch {
				case isMax:
					out = append(out, best)
				case p.CountIncludePad:
					out = append(out, sum/float64(padded))
				default:
					out = append(out, sum/float64(real))
				}
			}
		}
	}
	return out
}

func TestPoolMatchesDirect(t *testing.T) {
	for _, kind := range []string{"max", "avg"} {
		cases, fn := maxPoolCases, MaxPool2D
		if kind == "avg" {
			cases, fn = avgPoolCases, AvgPool2D
		}
		for _, c := range cases {
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				t.Run(fmt.Sprintf("%s/%s/%v", kind, c.name, dt), func(t *testing.T) {
					x := aRand(dt, 1, c.x...)
					got := aEval(t, func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return fn(in[0], c.p) }, x)
					if s := got.Shape(); s[2] != c.oh || s[3] != c.ow {
						t.Fatalf("output shape %v, want [_, _, %d, %d]", s, c.oh, c.ow)
					}
					aClose(t, c.name, aF64(got), directPool(x, c.p, c.oh, c.ow, kind == "max"), 1e-6)
				})
			}
		}
	}
}

func TestPoolGradients(t *testing.T) {
	for _, c := range maxPoolCases {
		t.Run("max/"+c.name, func(t *testing.T) {
			gradcheck.Check(t, func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return MaxPool2D(in[0], c.p) },
				gradcheck.Rand(1, c.x))
		})
	}
	for _, c := range avgPoolCases {
		t.Run("avg/"+c.name, func(t *testing.T) {
			gradcheck.Check(t, func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return AvgPool2D(in[0], c.p) },
				gradcheck.Rand(1, c.x))
		})
	}
}

// Ties go to the first maximum in window order, as in PyTorch and onnxruntime: finite
// differences cannot check this (the max is not differentiable there), so check it exactly.
func TestMaxPoolTiesGoToFirst(t *testing.T) {
	x := tensor.New(tensor.WithShape(1, 1, 2, 4), tensor.WithBacking([]float64{
		1, 5, 2, 2,
		5, 0, 2, 2,
	}))
	g := G.NewGraph()
	xn := G.NodeFromAny(g, x, G.WithName("x"))
	y, err := MaxPool2D(xn, PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}})
	if err != nil {
		t.Fatal(err)
	}
	loss := G.Must(G.Sum(G.Must(G.Reshape(y, tensor.Shape{2}))))
	if _, err := G.Grad(loss, xn); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	dx, err := xn.Grad()
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0, 1, 1, 0, 0, 0, 0, 0} // 5 at (0,1) beats 5 at (1,0); all-2 window → (0,2)
	aClose(t, "dx", aF64(dx.(*tensor.Dense)), want, 0)
}

func TestMaxPoolNaNPropagates(t *testing.T) {
	x := tensor.New(tensor.WithShape(1, 1, 2, 2), tensor.WithBacking([]float64{1, math.NaN(), 3, 2}))
	y := aEval(t, func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) {
		return MaxPool2D(in[0], PoolParams{Kernel: [2]int{2, 2}})
	}, x)
	if v := aF64(y)[0]; !math.IsNaN(v) {
		t.Errorf("max over a window with NaN = %v, want NaN", v)
	}
}

var adaptiveCases = []struct {
	x          []int
	outH, outW int
}{
	{[]int{2, 2, 5, 7}, 3, 2},
	{[]int{1, 2, 4, 4}, 2, 2},
	{[]int{1, 3, 6, 6}, 6, 1},
	{[]int{1, 1, 3, 2}, 5, 4}, // more bins than inputs: bins overlap
	{[]int{2, 3, 7, 5}, 1, 1},
}

// directAdaptive is PyTorch's definition of the bins.
func directAdaptive(x *tensor.Dense, oh, ow int) []float64 {
	xs := x.Shape()
	h, w := xs[2], xs[3]
	xv := aF64(x)
	var out []float64
	for pl := 0; pl < xs[0]*xs[1]; pl++ {
		for i := 0; i < oh; i++ {
			h0, h1 := int(math.Floor(float64(i*h)/float64(oh))), int(math.Ceil(float64((i+1)*h)/float64(oh)))
			for j := 0; j < ow; j++ {
				w0, w1 := int(math.Floor(float64(j*w)/float64(ow))), int(math.Ceil(float64((j+1)*w)/float64(ow)))
				s := 0.0
				for a := h0; a < h1; a++ {
					for b := w0; b < w1; b++ {
						s += xv[(pl*h+a)*w+b]
					}
				}
				out = append(out, s/float64((h1-h0)*(w1-w0)))
			}
		}
	}
	return out
}

func TestAdaptiveAvgPool(t *testing.T) {
	for _, c := range adaptiveCases {
		name := fmt.Sprintf("%v to %dx%d", c.x, c.outH, c.outW)
		t.Run(name, func(t *testing.T) {
			build := func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return AdaptiveAvgPool2D(in[0], c.outH, c.outW) }
			x := aRand(tensor.Float64, 4, c.x...)
			aClose(t, "forward", aF64(aEval(t, build, x)), directAdaptive(x, c.outH, c.outW), 1e-12)
			gradcheck.Check(t, build, x)
		})
	}
}

func TestGlobalAvgPool(t *testing.T) {
	build := func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return GlobalAvgPool2D(in[0]) }
	x := aRand(tensor.Float32, 5, 2, 3, 4, 5)
	y := aEval(t, build, x)
	if !y.Shape().Eq(tensor.Shape{2, 3, 1, 1}) {
		t.Fatalf("shape %v, want (2, 3, 1, 1)", y.Shape())
	}
	aClose(t, "forward", aF64(y), directAdaptive(x, 1, 1), 1e-6)
	gradcheck.Check(t, build, gradcheck.Rand(6, []int{2, 3, 4, 5}))
}

func TestPoolErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float64, 4, G.WithShape(1, 2, 5, 5))
	x3 := G.NewTensor(g, tensor.Float64, 3, G.WithShape(2, 5, 5))
	k3 := [2]int{3, 3}
	cases := []struct {
		name  string
		f     func() (*G.Node, error)
		frags []string
	}{
		{"max 3-D", func() (*G.Node, error) { return MaxPool2D(x3, PoolParams{Kernel: k3}) }, []string{"MaxPool2D", "shape (2, 5, 5)"}},
		{"kernel 0", func() (*G.Node, error) { return MaxPool2D(x, PoolParams{}) }, []string{"kernel[0] = 0"}},
		{"pad ≥ kernel", func() (*G.Node, error) { return AvgPool2D(x, PoolParams{Kernel: k3, Pads: [4]int{0, 0, 0, 3}}) }, []string{"pads[3] = 3", "kernel[1] = 3"}},
		{"negative stride", func() (*G.Node, error) { return AvgPool2D(x, PoolParams{Kernel: k3, Stride: [2]int{1, -2}}) }, []string{"stride[1] = -2"}},
		{"avg dilation", func() (*G.Node, error) { return AvgPool2D(x, PoolParams{Kernel: k3, Dilation: [2]int{2, 2}}) }, []string{"dilation [2 2]"}},
		{"max count pad", func() (*G.Node, error) { return MaxPool2D(x, PoolParams{Kernel: k3, CountIncludePad: true}) }, []string{"CountIncludePad"}},
		{"too big", func() (*G.Node, error) { return MaxPool2D(x, PoolParams{Kernel: [2]int{6, 1}}) }, []string{"no output position"}},
		{"adaptive 0", func() (*G.Node, error) { return AdaptiveAvgPool2D(x, 0, 2) }, []string{"output size 0x2"}},
		{"global 3-D", func() (*G.Node, error) { return GlobalAvgPool2D(x3) }, []string{"GlobalAvgPool2D", "want 4 dims"}},
	}
	for _, c := range cases {
		_, err := c.f()
		aWantErr(t, c.name, err, c.frags...)
	}
}
