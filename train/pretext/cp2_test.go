package pretext

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// cp2Golden is testdata/cp2_golden.json (scripts/gen_cp2_golden.py, Debian's torch).
type cp2Golden struct {
	N, D, HW, K      int
	Temperature      float64   `json:"temperature"`
	DenseWeight      float64   `json:"dense_weight"`
	QRaw             []float64 `json:"q_raw"`
	KRaw             []float64 `json:"k_raw"`
	Queue            []float64 `json:"queue"`
	MaskQ            []float64 `json:"mask_q"`
	MaskK            []float64 `json:"mask_k"`
	Loss, Ins, Dense float64
	GradQRaw         []float64 `json:"grad_q_raw"`
	DenseLogits      []float64 `json:"dense_logits"`
}

func readCP2Golden(t *testing.T) cp2Golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cp2_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g cp2Golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	return g
}

func f32s(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// cp2Build is CP2's loss on raw query and key maps x[0], x[1] [N, D, hw] (normalised in the
// graph, as the method does), with the masks, pair weights and queue fixed.
func cp2Build(gd cp2Golden, parts *cp2Loss) gradcheck.Build {
	return func(g *G.ExprGraph, x G.Nodes) (*G.Node, error) {
		q, err := ops.L2Normalize(x[0], 1, normEps)
		if err != nil {
			return nil, err
		}
		k, err := ops.L2Normalize(x[1], 1, normEps)
		if err != nil {
			return nil, err
		}
		w, _ := cp2PairWeights(f32s(gd.MaskQ), f32s(gd.MaskK), gd.N, gd.HW)
		c := func(name string, shape []int, v []float64) *G.Node {
			return constant(g, tensor.Float64, name, shape, v)
		}
		l, err := CP2Loss(q, k, c("mq", []int{gd.N, 1, gd.HW}, gd.MaskQ), c("mk", []int{gd.N, 1, gd.HW}, gd.MaskK),
			c("w", []int{gd.N, gd.HW, gd.HW}, w), c("queue", []int{gd.K, gd.D}, gd.Queue), gd.Temperature, gd.DenseWeight)
		if err != nil {
			return nil, err
		}
		if parts != nil {
			*parts = *l
		}
		return l.loss, nil
	}
}

// CP2's loss, its two parts, its dense logits and its gradient with respect to the raw query
// map equal PyTorch's, computed with CP2's own formula (an image with an empty query mask
// included).
func TestCP2LossMatchesPyTorch(t *testing.T) {
	gd := readCP2Golden(t)
	g := G.NewGraph()
	shape := []int{gd.N, gd.D, gd.HW}
	qr := G.NodeFromAny(g, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), gd.QRaw...))), G.WithName("q_raw"))
	kr := G.NodeFromAny(g, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), gd.KRaw...))), G.WithName("k_raw"))
	var parts cp2Loss
	loss, err := cp2Build(gd, &parts)(g, G.Nodes{qr, kr})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, qr); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	scalarOf := func(n *G.Node) float64 {
		switch v := n.Value().Data().(type) {
		case float64:
			return v
		case []float64:
			return v[0]
		}
		t.Fatalf("%s is not a float64 scalar", n.Name())
		return 0
	}
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"loss", scalarOf(parts.loss), gd.Loss}, {"ins", scalarOf(parts.ins), gd.Ins}, {"dense", scalarOf(parts.dense), gd.Dense}} {
		if math.Abs(c.got-c.want) > 1e-12*math.Max(1, math.Abs(c.want)) {
			t.Errorf("%s = %.17g, PyTorch %.17g", c.name, c.got, c.want)
		}
	}
	closeAll := func(what string, got, want []float64, tol float64) {
		if len(got) != len(want) {
			t.Fatalf("%s: %d values, PyTorch %d", what, len(got), len(want))
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > tol {
				t.Errorf("%s[%d] = %.17g, PyTorch %.17g", what, i, got[i], want[i])
				return
			}
		}
	}
	closeAll("dense logits", parts.denseLogits.Value().Data().([]float64), gd.DenseLogits, 1e-14)
	grad, err := qr.Grad()
	if err != nil {
		t.Fatal(err)
	}
	closeAll("d loss / d q_raw", grad.Data().([]float64), gd.GradQRaw, 1e-12)
}

// The analytic gradient with respect to the query map equals central differences.
func TestCP2LossGradient(t *testing.T) {
	gd := readCP2Golden(t)
	shape := []int{gd.N, gd.D, gd.HW}
	gradcheck.CheckOpts(t, gradcheck.Options{WRT: []int{0}}, cp2Build(gd, nil),
		tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), gd.QRaw...))),
		tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), gd.KRaw...))))
}

// Pair weights by hand: image 0 has 2 query × 1 key foreground cells, image 1 none on the
// query side (left out), so V = 1 and image 0's two pairs weigh 1/2 each.
func TestCP2PairWeightsHand(t *testing.T) {
	mq := []float32{1, 0, 1, 0, 0, 0}
	mk := []float32{0, 1, 0, 1, 1, 0}
	w, valid := cp2PairWeights(mq, mk, 2, 3)
	if valid != 1 {
		t.Fatalf("valid images %d, want 1", valid)
	}
	want := make([]float64, 18)
	want[0*3+1], want[2*3+1] = 0.5, 0.5
	for i := range w {
		if w[i] != want[i] {
			t.Fatalf("weights %v, want %v", w, want)
		}
	}
}

// Pasted boxes stay inside the view with areas and aspects in range; the composed image holds
// the foreground inside the box and the other image's background outside; the cell mask marks
// exactly the cells whose centre pixel is in the box; the background image is never the
// image itself; and the plan is a function of (seed, step).
func TestCP2PastePlan(t *testing.T) {
	const n, size = 3, 32
	scale, ratio := [2]float64{0.5, 0.8}, [2]float64{0.8, 1.25}
	for step := 0; step < 20; step++ {
		p := planPastes(1, step, n, size, scale, ratio)
		if q := planPastes(1, step, n, size, scale, ratio); q.shift != p.shift || q.boxes[1][2] != p.boxes[1][2] {
			t.Fatalf("step %d: two plans differ", step)
		}
		for v := 0; v < 2; v++ {
			if p.shift[v] < 1 || p.shift[v] >= n {
				t.Fatalf("shift %d: the background would be the image itself", p.shift[v])
			}
			for _, b := range p.boxes[v] {
				a := float64(b.h*b.w) / size / size
				if b.h == 0 || b.y0 < 0 || b.x0 < 0 || b.y0+b.h > size || b.x0+b.w > size || a < 0.4 || a > 0.9 {
					t.Fatalf("box %+v: outside the view or area fraction %.2f far from %v", b, a, scale)
				}
			}
		}
		fg, bg := make([]float32, n*3*size*size), make([]float32, n*3*size*size)
		for i := range fg {
			fg[i], bg[i] = float32(i/(3*size*size)+1), -float32(i/(3*size*size)+1) // image i: +i+1 / −(i+1)
		}
		out := p.compose(1, fg, bg, n, size)
		g := data.Grid{H: 2, W: 2}
		mask := p.cellMask(1, n, size, g)
		for i := 0; i < n; i++ {
			b, j := p.boxes[1][i], (i+p.shift[1])%n
			for y := 0; y < size; y++ {
				for x := 0; x < size; x++ {
					want := -float32(j + 1)
					if b.contains(y, x) {
						want = float32(i + 1)
					}
					if got := out[(i*3+2)*size*size+y*size+x]; got != want {
						t.Fatalf("step %d image %d pixel (%d,%d) = %v, want %v", step, i, y, x, got, want)
					}
				}
			}
			for r := 0; r < 2; r++ {
				for c := 0; c < 2; c++ {
					want := float32(0)
					if b.contains(8+16*r, 8+16*c) {
						want = 1
					}
					if mask[i*4+r*2+c] != want {
						t.Fatalf("image %d cell (%d,%d) mask %v, want %v (box %+v)", i, r, c, mask[i*4+r*2+c], want, b)
					}
				}
			}
		}
	}
}

// Dense accuracy by hand: image 0 (query fg cells 0, 1 of 3), key fg cells 0 and 2: key cell
// 0's best query cell is 1 (fg: a hit), key cell 2's is 2 (bg: a miss); image 1 has no
// background query cell and is skipped.
func TestCP2DenseAccuracyHand(t *testing.T) {
	const hw = 3
	logits := make([]float32, 2*hw*hw)
	set := func(i, x, y int, v float32) { logits[(i*hw+x)*hw+y] = v }
	set(0, 1, 0, 0.9)
	set(0, 2, 0, 0.5)
	set(0, 0, 2, 0.1)
	set(0, 2, 2, 0.7)
	mq := []float32{1, 1, 0, 1, 1, 1}
	mk := []float32{1, 0, 1, 1, 1, 1}
	acc, chance := cp2DenseAccuracy(logits, mq, mk, 2, hw)
	if acc != 0.5 || math.Abs(chance-2.0/3) > 1e-12 {
		t.Fatalf("accuracy %v chance %v, want 0.5 and 2/3", acc, chance)
	}
}
