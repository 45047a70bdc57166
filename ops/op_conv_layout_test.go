package ops

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// forceSplits makes every loop and product of the tests' tiny inputs split the way large ones
// do: loops across CPUs, GEMMs into blocks; it returns the function that restores the limits.
func forceSplits() func() {
	work, flops := minParallelWork, gemmBlockFlops
	minParallelWork, gemmBlockFlops = 0, 1
	return func() { minParallelWork, gemmBlockFlops = work, flops }
}

// Both convolution layouts (per image, batched) against the direct definition and finite
// differences, with every split forced.
func TestConv2DLayouts(t *testing.T) {
	defer forceSplits()()
	saved := convBatchBelow
	defer func() { convBatchBelow = saved }()
	savedPiece, savedTaps := convPieceFloats, convTapsBelow
	defer func() { convPieceFloats, convTapsBelow = savedPiece, savedTaps }()
	for _, layout := range []struct {
		name  string
		below int
		piece int
		taps  float64
	}{
		{"per image", 0, savedPiece, savedTaps},
		{"per image in one-row pieces", 0, 1, savedTaps},
		{"per image in pieces", 0, 200, savedTaps},
		{"batched", math.MaxInt, savedPiece, 0},
		{"batched by taps", math.MaxInt, savedPiece, 2},
	} {
		convBatchBelow, convPieceFloats, convTapsBelow = layout.below, layout.piece, layout.taps
		t.Run(layout.name+"/direct", TestConv2DMatchesDirect)
		t.Run(layout.name+"/gradients", TestConv2DGradients)
	}
}

// gemmCuts is a function of the shape, covers the side with increasing aligned cuts, and cuts
// only products big enough to be worth it.
func TestGemmCuts(t *testing.T) {
	for _, c := range []struct{ size, flops, blocks int }{
		{512, 1 << 30, gemmMaxBlocks},
		{4608, 3 << 22, 3},
		{40, 1 << 30, 2},
		{31, 1 << 30, 1},
		{512, 1 << 20, 1},
	} {
		cuts := gemmCuts(c.size, c.flops)
		if len(cuts)-1 != c.blocks || cuts[0] != 0 || cuts[len(cuts)-1] != c.size {
			t.Errorf("gemmCuts(%d, %d) = %v, want %d blocks covering [0, %d]", c.size, c.flops, cuts, c.blocks, c.size)
			continue
		}
		for i := 1; i < len(cuts)-1; i++ {
			if cuts[i]%gemmBlockAlign != 0 || cuts[i] <= cuts[i-1] || cuts[i] >= cuts[i+1] {
				t.Errorf("gemmCuts(%d, %d) = %v: cut %d not aligned or not increasing", c.size, c.flops, cuts, i)
			}
		}
	}
}

// The training engine promises the same bits for the same inputs: a convolution's forward and
// both gradients must not depend on how many CPUs compute them, in either layout.
func TestConv2DSameBitsAnyGOMAXPROCS(t *testing.T) {
	saved, piece, taps, procs := convBatchBelow, convPieceFloats, convTapsBelow, runtime.GOMAXPROCS(0)
	defer func() {
		convBatchBelow, convPieceFloats, convTapsBelow = saved, piece, taps
		runtime.GOMAXPROCS(procs)
	}()
	cases := []convCase{
		{"3x3 pad1 bias", []int{5, 16, 12, 12}, []int{24, 16, 3, 3}, true, ConvParams{Pads: [4]int{1, 1, 1, 1}}},
		{"stride2 dilation", []int{6, 8, 11, 9}, []int{40, 8, 3, 3}, false, ConvParams{Stride: [2]int{2, 2}, Dilation: [2]int{2, 2}, Pads: [4]int{2, 2, 2, 2}}},
		{"pointwise", []int{3, 32, 8, 8}, []int{48, 32, 1, 1}, true, ConvParams{}},
	}
	for _, layout := range []struct {
		below, piece int
		taps         float64
	}{{0, piece, taps}, {0, 200, taps}, {math.MaxInt, piece, 0}, {math.MaxInt, piece, 2}} {
		below := layout.below
		convBatchBelow, convPieceFloats, convTapsBelow = below, layout.piece, layout.taps
		for _, c := range cases {
			var want [][]float32
			for _, p := range []int{1, 2, 3, 8} {
				runtime.GOMAXPROCS(p)
				got := convStepValues(t, c)
				if want == nil {
					want = got
					continue
				}
				for i := range got {
					if !slices.Equal(got[i], want[i]) {
						t.Errorf("%s (batch below %d): output %d differs between GOMAXPROCS 1 and %d", c.name, below, i, p)
					}
				}
			}
		}
	}
}

// convStepValues runs c in float32 with a loss Σ y⊙r and returns y, dx, dw (and db).
func convStepValues(t *testing.T, c convCase) [][]float32 {
	t.Helper()
	restore := forceSplits()
	defer restore()
	g := G.NewGraph()
	var in G.Nodes
	for i, v := range c.inputs(tensor.Float32) {
		in = append(in, G.NodeFromAny(g, v, G.WithName(fmt.Sprintf("in%d", i))))
	}
	y, err := c.build(g, in)
	if err != nil {
		t.Fatal(err)
	}
	r := G.NodeFromAny(g, aRand(tensor.Float32, 9, y.Shape()...), G.WithName("r"))
	if _, err := G.Backpropagate(G.Nodes{y}, G.Nodes{r}, in); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	out := [][]float32{slices.Clone(y.Value().Data().([]float32))}
	for _, n := range in {
		gv, err := n.Grad()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, slices.Clone(gv.Data().([]float32)))
	}
	return out
}

// The by-taps layout's geometry: which taps read the plane, over which output rectangle, and
// the share that decides the layout (MoCoFCN's head on an 8×8 map: 144 of 576 entries).
func TestConvTaps(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(2, 4, 8, 8), G.WithName("x"))
	w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(4, 4, 3, 3), G.WithName("w"))
	for _, c := range []struct {
		p     ConvParams
		taps  int
		share float64
	}{
		{ConvParams{Dilation: [2]int{6, 6}, Pads: [4]int{6, 6, 6, 6}}, 9, 144.0 / 576},
		{ConvParams{Dilation: [2]int{2, 2}, Pads: [4]int{2, 2, 2, 2}}, 9, 400.0 / 576},
		{ConvParams{Pads: [4]int{1, 1, 1, 1}}, 9, 484.0 / 576},
		{ConvParams{}, 9, 1},
	} {
		op, err := newConvOp(x, w, nil, c.p)
		if err != nil {
			t.Fatal(err)
		}
		taps := op.taps
		if len(taps) != c.taps || math.Abs(op.planeShare()-c.share) > 1e-12 {
			t.Errorf("%+v: %d taps, share %v; want %d, %v", c.p, len(taps), op.planeShare(), c.taps, c.share)
		}
		for i, tp := range taps {
			if i > 0 && tp.size() == 64 && taps[i-1].size() < 64 {
				t.Errorf("%+v: a whole-plane tap after a partial one: %+v", c.p, taps)
			}
		}
	}
}
