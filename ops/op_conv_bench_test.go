package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/internal/blas"
)

// benchConv times one training step of a convolution on a tape machine: the forward pass and
// the gradients with respect to x and w (backpropagating a fixed output gradient), and
// reports GFLOP/s counting 2 flops per multiply-add in each of the three products.
func benchConv(b *testing.B, x, w []int, p ConvParams) {
	g := G.NewGraph()
	xn := G.NodeFromAny(g, aRand(tensor.Float32, 1, x...), G.WithName("x"))
	wn := G.NodeFromAny(g, aRand(tensor.Float32, 2, w...), G.WithName("w"))
	y, err := Conv2D(xn, wn, nil, p)
	if err != nil {
		b.Fatal(err)
	}
	dy := G.NodeFromAny(g, aRand(tensor.Float32, 3, y.Shape()...), G.WithName("dy"))
	if _, err := G.Backpropagate(G.Nodes{y}, G.Nodes{dy}, G.Nodes{xn, wn}); err != nil {
		b.Fatal(err)
	}
	benchMachine(b, g, false)
	macs := float64(y.Shape().TotalSize()) * float64(w[1]*w[2]*w[3]) // per product
	b.ReportMetric(3*2*macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// benchMachine times b.N runs of g's tape machine after one untimed run (it allocates the
// ops' outputs; later runs reuse them). With profile, the timed runs are also profiled
// (ops.StartProfile: it allocates a closure per op run) and their profile is returned.
func benchMachine(b *testing.B, g *G.ExprGraph, profile bool) *Profile {
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	run := func() {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
	}
	run()
	b.ReportAllocs()
	var prof *Profile
	if profile {
		prof = StartProfile()
		defer StopProfile()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.StopTimer()
	return prof
}

// BenchmarkConv2DResNet3x3 is a ResNet-18 stage-1 convolution: 3x3, 64→64, pad 1, batch 8,
// 32x32.
func BenchmarkConv2DResNet3x3(b *testing.B) {
	b.Logf("BLAS: %s", blas.Name)
	benchConv(b, []int{8, 64, 32, 32}, []int{64, 64, 3, 3}, ConvParams{Pads: [4]int{1, 1, 1, 1}})
}

// BenchmarkConv2DDilated8x8 is a ResNet-18 stage-4 convolution at output stride 16: 3x3,
// 512→512, dilation 2, batch 8, 8x8 (the batched layout).
func BenchmarkConv2DDilated8x8(b *testing.B) {
	benchConv(b, []int{8, 512, 8, 8}, []int{512, 512, 3, 3}, ConvParams{Pads: [4]int{2, 2, 2, 2}, Dilation: [2]int{2, 2}})
}

// BenchmarkConv2DDepthwise3x3 is a MobileNet-style depthwise 3x3 over 64 channels, batch 8,
// 32x32.
func BenchmarkConv2DDepthwise3x3(b *testing.B) {
	benchConv(b, []int{8, 64, 32, 32}, []int{64, 1, 3, 3}, ConvParams{Pads: [4]int{1, 1, 1, 1}, Groups: 64})
}

// BenchmarkConv2DPointwise1x1 is a Bottleneck 1x1, 256→64, batch 8, 32x32 (no im2col).
func BenchmarkConv2DPointwise1x1(b *testing.B) {
	benchConv(b, []int{8, 256, 32, 32}, []int{64, 256, 1, 1}, ConvParams{})
}

// BenchmarkConv2DGemmBaseline is the forward GEMM of BenchmarkConv2DResNet3x3 alone
// ([64 x 576] x [576 x 1024], once per image), the ceiling the convolution can reach.
func BenchmarkConv2DGemmBaseline(b *testing.B) {
	const m, k, n, images = 64, 576, 1024, 8
	a, w, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) - 3
	}
	for i := range w {
		w[i] = float32(i%5) - 2
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j := 0; j < images; j++ {
			gemm(false, false, m, n, k, 1, a, k, w, n, 0, c, n)
		}
	}
	b.ReportMetric(2*m*k*n*images*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// BenchmarkConv2DHead8x8 is MoCo's FCN head's first convolution on ResNet-18's output-stride-16
// map: 3x3, 512→256, dilation 6, batch 8, 8x8 — three quarters of its im2col entries read
// padding, so it goes by taps (op_conv_taps.go).
func BenchmarkConv2DHead8x8(b *testing.B) {
	benchConv(b, []int{8, 512, 8, 8}, []int{256, 512, 3, 3}, ConvParams{Pads: [4]int{6, 6, 6, 6}, Dilation: [2]int{6, 6}})
}

// BenchmarkConv2DHead8x8Im2col is BenchmarkConv2DHead8x8 through im2col (the batched layout),
// for comparison.
func BenchmarkConv2DHead8x8Im2col(b *testing.B) {
	defer func(v float64) { convTapsBelow = v }(convTapsBelow)
	convTapsBelow = 0
	BenchmarkConv2DHead8x8(b)
}

// BenchmarkConv2DDilated8x8Im2col is BenchmarkConv2DDilated8x8 through im2col.
func BenchmarkConv2DDilated8x8Im2col(b *testing.B) {
	defer func(v float64) { convTapsBelow = v }(convTapsBelow)
	convTapsBelow = 0
	BenchmarkConv2DDilated8x8(b)
}
