package ops

import (
	"fmt"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// convCase is one convolution configuration; together the cases reach every code path:
// im2col + GEMM, the 1×1 pointwise shortcut, the depthwise loops, groups, strides,
// dilations and asymmetric pads.
type convCase struct {
	name string
	x, w []int
	bias bool
	p    ConvParams
}

var convCases = []convCase{
	{"3x3 pad1 bias", []int{2, 3, 5, 4}, []int{4, 3, 3, 3}, true, ConvParams{Pads: [4]int{1, 1, 1, 1}}},
	{"no bias valid", []int{1, 2, 5, 5}, []int{3, 2, 3, 2}, false, ConvParams{}},
	{"stride2 asym pads", []int{2, 2, 6, 5}, []int{3, 2, 3, 3}, true, ConvParams{Stride: [2]int{2, 2}, Pads: [4]int{0, 1, 2, 0}}},
	{"stride 2x1 rect kernel", []int{1, 2, 7, 6}, []int{2, 2, 2, 3}, true, ConvParams{Stride: [2]int{2, 1}, Pads: [4]int{1, 0, 0, 2}}},
	{"dilation2", []int{1, 2, 7, 7}, []int{2, 2, 3, 3}, true, ConvParams{Dilation: [2]int{2, 2}, Pads: [4]int{2, 2, 2, 2}}},
	{"dilation 2x3 stride2", []int{1, 1, 9, 9}, []int{2, 1, 2, 2}, false, ConvParams{Stride: [2]int{2, 2}, Dilation: [2]int{2, 3}, Pads: [4]int{1, 0, 0, 1}}},
	{"groups2", []int{2, 4, 4, 4}, []int{6, 2, 3, 3}, true, ConvParams{Groups: 2, Pads: [4]int{1, 1, 1, 1}}},
	{"depthwise", []int{2, 3, 5, 5}, []int{3, 1, 3, 3}, true, ConvParams{Groups: 3, Pads: [4]int{1, 1, 1, 1}}},
	{"depthwise mult2 stride2 dil", []int{1, 2, 7, 6}, []int{4, 1, 3, 3}, false, ConvParams{Groups: 2, Stride: [2]int{2, 2}, Dilation: [2]int{2, 1}, Pads: [4]int{2, 0, 1, 1}}},
	{"pointwise", []int{2, 3, 3, 4}, []int{5, 3, 1, 1}, true, ConvParams{}},
	{"pointwise groups", []int{1, 4, 3, 3}, []int{2, 2, 1, 1}, false, ConvParams{Groups: 2}},
	{"1x1 stride2", []int{1, 3, 5, 5}, []int{2, 3, 1, 1}, false, ConvParams{Stride: [2]int{2, 2}}},
	// Every tap but the centre reads padding at some outputs, the plane at others (the
	// by-taps layout's partial rectangles).
	{"dilation3 partial taps", []int{2, 3, 5, 6}, []int{4, 3, 3, 3}, true, ConvParams{Dilation: [2]int{3, 3}, Pads: [4]int{3, 3, 3, 3}}},
	// MoCoFCN's head (3x3, dilation 6, pad 6) on a 3x4 map: the outer taps read only padding.
	{"dilation beyond input", []int{1, 2, 3, 4}, []int{2, 2, 3, 3}, true, ConvParams{Dilation: [2]int{6, 6}, Pads: [4]int{6, 6, 6, 6}}},
	{"depthwise dilation beyond input", []int{1, 2, 3, 4}, []int{2, 1, 3, 3}, false, ConvParams{Groups: 2, Dilation: [2]int{6, 6}, Pads: [4]int{6, 6, 6, 6}}},
	{"stride2 dilation beyond input", []int{1, 1, 4, 3}, []int{1, 1, 3, 3}, false, ConvParams{Stride: [2]int{2, 2}, Dilation: [2]int{4, 5}, Pads: [4]int{4, 5, 4, 5}}},
}

func (c convCase) build(g *G.ExprGraph, in G.Nodes) (*G.Node, error) {
	var b *G.Node
	if c.bias {
		b = in[2]
	}
	return Conv2D(in[0], in[1], b, c.p)
}

func (c convCase) inputs(dt tensor.Dtype) []*tensor.Dense {
	in := []*tensor.Dense{aRand(dt, 1, c.x...), aRand(dt, 2, c.w...)}
	if c.bias {
		in = append(in, aRand(dt, 3, c.w[0]))
	}
	return in
}

// directConv is the textbook definition, the slow reference the GEMM paths must match.
func directConv(x, w, b *tensor.Dense, p ConvParams) []float64 {
	p = p.normalised()
	xs, ws := x.Shape(), w.Shape()
	n, c, h, wd := xs[0], xs[1], xs[2], xs[3]
	m, cg, kh, kw := ws[0], ws[1], ws[2], ws[3]
	mg := m / p.Groups
	oh := (h+p.Pads[0]+p.Pads[2]-p.Dilation[0]*(kh-1)-1)/p.Stride[0] + 1
	ow := (wd+p.Pads[1]+p.Pads[3]-p.Dilation[1]*(kw-1)-1)/p.Stride[1] + 1
	xv, wv := aF64(x), aF64(w)
	out := make([]float64, 0, n*m*oh*ow)
	for ni := 0; ni < n; ni++ {
		for mi := 0; mi < m; mi++ {
			for y := 0; y < oh; y++ {
				for z := 0; z < ow; z++ {
					s := 0.0
					if b != nil {
						s = aF64(b)[mi]
					}
					for ci := 0; ci < cg; ci++ {
						cin := (mi/mg)*cg + ci
						for i := 0; i < kh; i++ {
							for j := 0; j < kw; j++ {
								ih := y*p.Stride[0] - p.Pads[0] + i*p.Dilation[0]
								iw := z*p.Stride[1] - p.Pads[1] + j*p.Dilation[1]
								if ih < 0 || ih >= h || iw < 0 || iw >= wd {
									continue
								}
								s += xv[((ni*c+cin)*h+ih)*wd+iw] * wv[((mi*cg+ci)*kh+i)*kw+j]
							}
						}
					}
					out = append(out, s)
				}
			}
		}
	}
	return out
}

func TestConv2DMatchesDirect(t *testing.T) {
	for _, c := range convCases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(fmt.Sprintf("%s/%v", c.name, dt), func(t *testing.T) {
				in := c.inputs(dt)
				got := aEval(t, c.build, in...)
				var b *tensor.Dense
				if c.bias {
					b = in[2]
				}
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 1e-5
				}
				aClose(t, c.name, aF64(got), directConv(in[0], in[1], b, c.p), tol)
			})
		}
	}
}

func TestConv2DGradients(t *testing.T) {
	for _, c := range convCases {
		t.Run(c.name, func(t *testing.T) {
			gradcheck.Check(t, c.build, c.inputs(tensor.Float64)...)
		})
	}
}

// Two convolutions of one input that differ only in their parameters must stay two nodes:
// Gorgonia merges nodes whose op hashes and children are equal.
func TestConv2DNotMerged(t *testing.T) {
	x, w := aRand(tensor.Float64, 1, 1, 2, 6, 6), aRand(tensor.Float64, 2, 2, 2, 3, 3)
	g := G.NewGraph()
	xn, wn := G.NodeFromAny(g, x), G.NodeFromAny(g, w)
	a, err := Conv2D(xn, wn, nil, ConvParams{Pads: [4]int{1, 1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Conv2D(xn, wn, nil, ConvParams{Pads: [4]int{1, 1, 1, 1}, Dilation: [2]int{2, 2}, Stride: [2]int{1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("convolutions with different dilations were merged into one node")
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	aClose(t, "dilation 1", aF64(a.Value().(*tensor.Dense)), directConv(x, w, nil, ConvParams{Pads: [4]int{1, 1, 1, 1}}), 1e-12)
	aClose(t, "dilation 2", aF64(b.Value().(*tensor.Dense)), directConv(x, w, nil, ConvParams{Pads: [4]int{1, 1, 1, 1}, Dilation: [2]int{2, 2}}), 1e-12)
}

// Running a machine again reuses its output tensors (UsePreallocDo); the second run must give
// the same values as the first, with the inputs changed in between taken into account.
func TestConv2DRerun(t *testing.T) {
	c := convCases[0]
	in := c.inputs(tensor.Float64)
	g := G.NewGraph()
	var nodes G.Nodes
	for _, v := range in {
		nodes = append(nodes, G.NodeFromAny(g, v))
	}
	out, err := c.build(g, nodes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(G.Must(G.Sum(G.Must(G.Reshape(out, tensor.Shape{out.Shape().TotalSize()})))), nodes...); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	for run := 0; run < 3; run++ {
		xs := in[0].Data().([]float64)
		for i := range xs {
			xs[i] += 0.25
		}
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		aClose(t, fmt.Sprintf("run %d", run), aF64(out.Value().(*tensor.Dense)), directConv(in[0], in[1], in[2], c.p), 1e-12)
	}
}

func TestConv2DErrors(t *testing.T) {
	g := G.NewGraph()
	n := func(shape ...int) *G.Node {
		return G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...))
	}
	n32 := G.NewTensor(g, tensor.Float32, 4, G.WithShape(4, 3, 3, 3))
	cases := []struct {
		name    string
		x, w, b *G.Node
		p       ConvParams
		frags   []string
	}{
		{"x 3-D", n(3, 5, 5), n(4, 3, 3, 3), nil, ConvParams{}, []string{"x has shape (3, 5, 5)", "want 4 dims"}},
		{"w 2-D", n(1, 3, 5, 5), n(4, 27), nil, ConvParams{}, []string{"w has shape (4, 27)"}},
		{"channels", n(1, 3, 5, 5), n(4, 2, 3, 3), nil, ConvParams{}, []string{"want [4, 3, kH, kW]"}},
		{"groups", n(1, 3, 5, 5), n(4, 1, 3, 3), nil, ConvParams{Groups: 2}, []string{"groups = 2", "input channels 3"}},
		{"bias", n(1, 3, 5, 5), n(4, 3, 3, 3), n(3), ConvParams{}, []string{"b has shape (3)", "want [4]"}},
		{"stride", n(1, 3, 5, 5), n(4, 3, 3, 3), nil, ConvParams{Stride: [2]int{-1, 1}}, []string{"stride[0] = -1"}},
		{"pads", n(1, 3, 5, 5), n(4, 3, 3, 3), nil, ConvParams{Pads: [4]int{0, 0, -1, 0}}, []string{"pads[2] = -1"}},
		{"too small", n(1, 3, 2, 2), n(4, 3, 3, 3), nil, ConvParams{}, []string{"no output position", "in 2x2 kernel 3x3"}},
		{"dtype", n(1, 3, 5, 5), n32, nil, ConvParams{}, []string{"x is float64 but w is float32"}},
		{"nil", nil, n(4, 3, 3, 3), nil, ConvParams{}, []string{"must not be nil"}},
	}
	for _, c := range cases {
		_, err := Conv2D(c.x, c.w, c.b, c.p)
		aWantErr(t, c.name, err, c.frags...)
	}
}
