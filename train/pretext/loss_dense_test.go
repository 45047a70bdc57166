package pretext

import (
	"encoding/json"
	"math"
	"math/rand"
	"os"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// denseGolden is testdata/dense_golden.json, written by scripts/gen_dense_golden.py with
// PyTorch from the official DenseCL and PixPro code's formulas.
type denseGolden struct {
	DenseCL struct {
		N, C, H, W, D int
		Dg            int       `json:"dg"`
		K             int       `json:"queue"`
		K2            int       `json:"queue2"`
		Temperature   float64   `json:"temperature"`
		Lambda        float64   `json:"lambda"`
		QB            []float64 `json:"q_b"`
		KB            []float64 `json:"k_b"`
		QGrid         []float64 `json:"q_grid"`
		KGrid         []float64 `json:"k_grid"`
		Q             []float64 `json:"q"`
		Kk            []float64 `json:"k"`
		QueueRows     []float64 `json:"queue_rows"`
		Queue2Rows    []float64 `json:"queue2_rows"`
		Match         []int     `json:"match"`
		LossGlobal    float64   `json:"loss_global"`
		LossDense     float64   `json:"loss_dense"`
		Loss          float64   `json:"loss"`
	} `json:"densecl"`
	PixPro struct {
		N, C, H, W, Src, View int
		Boxes                 [][][5]float64 `json:"boxes"`
		Proj1                 []float64      `json:"proj1"`
		Proj2                 []float64      `json:"proj2"`
		Value1                []float64      `json:"value1"`
		Value2                []float64      `json:"value2"`
		Target1               []float64      `json:"target1"`
		Target2               []float64      `json:"target2"`
		Mask12                []float64      `json:"mask12"`
		Mask21                []float64      `json:"mask21"`
		Loss                  float64        `json:"loss"`
	} `json:"pixpro"`
}

func readDenseGolden(t *testing.T) denseGolden {
	t.Helper()
	raw, err := os.ReadFile("testdata/dense_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var g denseGolden
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatalf("decoding testdata/dense_golden.json: %v", err)
	}
	if g.DenseCL.N == 0 || g.PixPro.N == 0 || len(g.DenseCL.Match) == 0 {
		t.Fatal("testdata/dense_golden.json lacks a case; rerun scripts/gen_dense_golden.py")
	}
	return g
}

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

func dense64(shape []int, v []float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
}

// unitRowsOf normalises rows [n, d] (float64).
func unitRowsOf(v []float64, d int) []float64 {
	out := append([]float64(nil), v...)
	for off := 0; off < len(out); off += d {
		var s float64
		for _, x := range out[off : off+d] {
			s += x * x
		}
		for j := off; j < off+d; j++ {
			out[j] /= math.Sqrt(s)
		}
	}
	return out
}

// DenseCL's loss against the official code's: the backbone-similarity match, the dense
// InfoNCE against the dense queue, the global InfoNCE and their (1 − λ, λ) sum.
func TestDenseCLMatchesGolden(t *testing.T) {
	g := readDenseGolden(t).DenseCL
	hw := g.H * g.W
	match := DenseCLMatch(f32(g.QB), f32(g.KB), g.N, g.C, hw)
	for i, m := range match {
		if m != g.Match[i] {
			t.Fatalf("match of query cell %d: %d, PyTorch %d (all: %v vs %v)", i, m, g.Match[i], match, g.Match)
		}
	}
	// The matched key cells, normalised, as DenseCL.matchedKeys writes them.
	kcells := make([]float32, g.N*hw*g.D)
	for i := 0; i < g.N; i++ {
		cellsOf(kcells[i*hw*g.D:(i+1)*hw*g.D], f32(g.KGrid[i*g.D*hw:(i+1)*g.D*hw]), g.D, hw)
	}
	kpos := make([]float64, g.N*hw*g.D)
	for r, m := range match {
		img := r / hw
		copy(kpos[r*g.D:(r+1)*g.D], f64(kcells[(img*hw+m)*g.D:(img*hw+m+1)*g.D]))
	}
	build := func(gr *G.ExprGraph, x G.Nodes) (*G.Node, error) {
		q, err := denseCells(x[0])
		if err != nil {
			return nil, err
		}
		labels := constant(gr, tensor.Float64, "labels", []int{g.N * hw}, make([]float64, g.N*hw))
		dl, err := DenseCLDenseLoss(q, x[1], x[2], labels, g.Temperature)
		if err != nil {
			return nil, err
		}
		gl, err := InfoNCE(x[3], x[4], x[5], g.Temperature)
		if err != nil {
			return nil, err
		}
		return weightedSum(gr, "test", []*G.Node{gl, dl}, []float64{1 - g.Lambda, g.Lambda})
	}
	inputs := []*tensor.Dense{
		dense64([]int{g.N, g.D, g.H, g.W}, g.QGrid), dense64([]int{g.N * hw, g.D}, kpos), dense64([]int{g.K2, g.D}, g.Queue2Rows),
		dense64([]int{g.N, g.Dg}, unitRowsOf(g.Q, g.Dg)), dense64([]int{g.N, g.Dg}, unitRowsOf(g.Kk, g.Dg)), dense64([]int{g.K, g.Dg}, g.QueueRows),
	}
	// kpos went through float32 (cellsOf): 1e-6 relative.
	near(t, "DenseCL loss", lossOf(t, build, inputs...), g.Loss, 1e-5)
	gradcheck.Check(t, build, inputs...)
}

// A tie in backbone similarity goes to the first key cell, a zero feature matches cell 0,
// and the match stays within the image.
func TestDenseCLMatchByHand(t *testing.T) {
	// One image, 2 channels, 3 cells. Query cells: (1,0), (0,1), (0,0). Key cells: (0,2),
	// (2,0), (1,0).
	q := []float32{1, 0, 0, 0, 1, 0}
	k := []float32{0, 2, 1, 2, 0, 0}
	got := DenseCLMatch(q, k, 1, 2, 3)
	want := []int{1, 0, 0} // (1,0) ties between key cells 1 and 2 → 1; (0,1) → 0; zero → 0
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("match %v, want %v", got, want)
		}
	}
}

// DenseCL's dense loss skips rows labelled −1 (geometry matching's cells outside the other
// view) and is the mean of the others.
func TestDenseCLDenseLossSkipsUnmatched(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	q, k, queue := unitRows(r, 3, 4), unitRows(r, 3, 4), unitRows(r, 5, 4)
	lossWith := func(labels []float64) float64 {
		return lossOf(t, func(g *G.ExprGraph, x G.Nodes) (*G.Node, error) {
			return DenseCLDenseLoss(x[0], x[1], x[2], constant(g, tensor.Float64, "l", []int{3}, labels), 0.2)
		}, q, k, queue)
	}
	var want float64
	for _, i := range []int{0, 2} {
		logits := []float64{dot(row(q, i), row(k, i)) / 0.2}
		for j := 0; j < 5; j++ {
			logits = append(logits, dot(row(q, i), row(queue, j))/0.2)
		}
		want += (logSumExp(logits) - logits[0]) / 2
	}
	near(t, "loss with row 1 skipped", lossWith([]float64{0, -1, 0}), want, 1e-12)
}

// pixproGeoms are the golden case's crops as geometries of view×view views.
func pixproGeoms(g denseGolden) (a, b []data.Geometry) {
	p := g.PixPro
	for _, bx := range p.Boxes {
		for v, dst := range []*[]data.Geometry{&a, &b} {
			x := bx[v]
			*dst = append(*dst, data.FromBox(data.Box{X0: x[0], Y0: x[1], X1: x[2], Y1: x[3]}, x[4] == 1, p.View, p.View, p.Src, p.Src))
		}
	}
	return a, b
}

// PixPro's positive pairs, pixel propagation and loss against the official code's.
func TestPixProMatchesGolden(t *testing.T) {
	gold := readDenseGolden(t)
	p := gold.PixPro
	hw := p.H * p.W
	ga, gb := pixproGeoms(gold)
	grid := data.Grid{H: p.H, W: p.W}
	for dir, c := range []struct {
		a, b []data.Geometry
		mask []float64
	}{{ga, gb, p.Mask12}, {gb, ga, p.Mask21}} {
		w, counts, err := PixProWeights(c.a, c.b, grid, grid, 0.7)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < p.N; i++ {
			var n int
			for j := 0; j < hw*hw; j++ {
				pos := w[i*hw*hw+j] > 0
				if pos != (c.mask[i*hw*hw+j] == 1) {
					t.Fatalf("direction %d, image %d, pair %d: positive %v, PixPro's mask %v", dir, i, j, pos, c.mask[i*hw*hw+j])
				}
				if pos {
					n++
				}
			}
			if n != counts[i] {
				t.Errorf("image %d: count %d, %d positives", i, counts[i], n)
			}
		}
	}
	if c := countPositive(p.Mask12); c == 0 || c == len(p.Mask12) {
		t.Fatalf("golden mask has %d positives of %d: no test of the rule", c, len(p.Mask12))
	}
	w12, _, _ := PixProWeights(ga, gb, grid, grid, 0.7)
	w21, _, _ := PixProWeights(gb, ga, grid, grid, 0.7)
	shape := []int{p.N, p.C, p.H, p.W}
	build := func(g *G.ExprGraph, x G.Nodes) (*G.Node, error) {
		y1, err := PixelPropagation(x[0], x[1])
		if err != nil {
			return nil, err
		}
		y2, err := PixelPropagation(x[2], x[3])
		if err != nil {
			return nil, err
		}
		return PixProLoss(y1, x[5], x[6], y2, x[4], x[7]) // view 1 against target 2, and back
	}
	targets := func(v []float64) *tensor.Dense {
		return dense64([]int{p.N, p.C, hw}, f64(normalizeMaps(f32(v), p.C, hw)))
	}
	inputs := []*tensor.Dense{dense64(shape, p.Proj1), dense64(shape, p.Value1), dense64(shape, p.Proj2), dense64(shape, p.Value2),
		targets(p.Target1), targets(p.Target2), dense64([]int{p.N, hw, hw}, f64(w12)), dense64([]int{p.N, hw, hw}, f64(w21))}
	near(t, "PixPro loss", lossOf(t, build, inputs...), p.Loss, 1e-5)
	// The gradient with respect to the online maps (the targets and weights are values).
	gradcheck.CheckOpts(t, gradcheck.Options{WRT: []int{0, 1, 2, 3}}, build, inputs...)
}

func countPositive(v []float64) int {
	n := 0
	for _, x := range v {
		if x > 0 {
			n++
		}
	}
	return n
}
