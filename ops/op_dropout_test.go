package ops

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// dropoutGraph is x → Dropout → L = Σ y⊙R with the gradient wired, for one machine.
type dropoutGraph struct {
	x, y *G.Node
	vm   G.VM
}

func newDropoutGraph(t *testing.T, x *tensor.Dense, p float64, phase *Phase, seed int64) *dropoutGraph {
	t.Helper()
	g := G.NewGraph()
	xn := G.NodeFromAny(g, x.Clone().(*tensor.Dense), G.WithName("x"))
	y, err := Dropout(xn, p, phase, seed)
	if err != nil {
		t.Fatal(err)
	}
	n := x.Shape().TotalSize()
	flat, err := G.Reshape(y, tensor.Shape{n})
	if err != nil {
		t.Fatal(err)
	}
	r := G.NodeFromAny(g, bDense([]int{n}, bSeq(n)), G.WithName("R")) // dL/dy[i] = i
	loss, err := G.Sum(G.Must(G.HadamardProd(flat, r)), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, xn); err != nil {
		t.Fatal(err)
	}
	return &dropoutGraph{x: xn, y: y, vm: G.NewTapeMachine(g)}
}

// run does one forward+backward pass and returns y and dL/dx.
func (d *dropoutGraph) run(t *testing.T) (y, dx []float64) {
	t.Helper()
	d.vm.Reset()
	if err := d.vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	gv, err := d.x.Grad()
	if err != nil {
		t.Fatal(err)
	}
	return bF64s(t, d.y.Value()), bF64s(t, gv)
}

func bOnes(n int) *tensor.Dense {
	d := make([]float64, n)
	for i := range d {
		d[i] = 1
	}
	return bDense([]int{n}, d)
}

func TestDropoutEvalIsIdentity(t *testing.T) {
	x := gradcheck.Rand(50, []int{3, 4})
	phase := &Phase{Training: false}
	d := newDropoutGraph(t, x, 0.5, phase, 1)
	defer d.vm.Close()
	y, dx := d.run(t)
	bClose(t, "eval forward", y, x.Data().([]float64), 0, 0)
	bClose(t, "eval backward", dx, bSeq(12), 0, 0)
	gradcheck.Check(t, bUnary(func(x *G.Node) (*G.Node, error) { return Dropout(x, 0.5, phase, 1) }), x)
}

// In training, kept elements are scaled by exactly 1/(1−p), the kept fraction is close to
// 1−p, and the gradient passes through the same mask with the same scale.
func TestDropoutTrainingScale(t *testing.T) {
	const n, p = 20000, 0.3
	phase := &Phase{Training: true}
	d := newDropoutGraph(t, bOnes(n), p, phase, 7)
	defer d.vm.Close()
	y, dx := d.run(t)
	scale := 1 / (1 - p)
	kept := 0
	for i, v := range y {
		switch v {
		case 0:
			if dx[i] != 0 {
				t.Fatalf("element %d dropped in the forward pass but has gradient %g", i, dx[i])
			}
		case scale:
			kept++
			if dx[i] != float64(i)*scale {
				t.Fatalf("element %d kept: gradient %g, want %g", i, dx[i], float64(i)*scale)
			}
		default:
			t.Fatalf("element %d = %.17g, want 0 or 1/(1-p) = %.17g", i, v, scale)
		}
	}
	// The mean of y is kept·scale/n, so it is 1 (the input's) up to the binomial spread of the
	// kept count. Binomial(n, 1-p): 4.5 standard deviations is a 1-in-150000 false alarm.
	sd := math.Sqrt(n * p * (1 - p))
	if math.Abs(float64(kept)-n*(1-p)) > 4.5*sd {
		t.Errorf("kept %d of %d, want about %.0f ± %.0f", kept, n, n*(1-p), 4.5*sd)
	}
	// Flip the phase on the same machine: identity, no rebuild.
	phase.Training = false
	y, _ = d.run(t)
	bClose(t, "after switching to eval", y, bOnes(n).Data().([]float64), 0, 0)
}

// Same seed, same masks (run after run); a new run draws a new mask; another seed differs.
// Masks depend on (seed, Phase.Step) only: the same step gives the same mask (a resumed
// run reproduces an uninterrupted one), the next step a fresh one.
func TestDropoutSeeds(t *testing.T) {
	phase := &Phase{Training: true}
	a := newDropoutGraph(t, bOnes(200), 0.5, phase, 11)
	b := newDropoutGraph(t, bOnes(200), 0.5, phase, 11)
	c := newDropoutGraph(t, bOnes(200), 0.5, phase, 12)
	defer a.vm.Close()
	defer b.vm.Close()
	defer c.vm.Close()
	a1, _ := a.run(t)
	b1, _ := b.run(t)
	c1, _ := c.run(t)
	again, _ := a.run(t)
	bClose(t, "same seed, same step, rerun", a1, again, 0, 0)
	phase.Step++
	a2, _ := a.run(t)
	b2, _ := b.run(t)
	bClose(t, "same seed, step 0", a1, b1, 0, 0)
	bClose(t, "same seed, step 1", a2, b2, 0, 0)
	if bEqual(a1, a2) {
		t.Error("step 1 reused step 0's mask")
	}
	if bEqual(a1, c1) {
		t.Error("seeds 11 and 12 drew the same mask")
	}
}

// Two Dropouts with different seeds on one input stay two nodes (Gorgonia's own Dropout hash
// would merge them) and draw different masks.
func TestDropoutNotMerged(t *testing.T) {
	phase := &Phase{Training: true}
	g := G.NewGraph()
	x := G.NodeFromAny(g, bOnes(100), G.WithName("x"))
	d1, err := Dropout(x, 0.5, phase, 1)
	if err != nil {
		t.Fatal(err)
	}
	d2, err := Dropout(x, 0.5, phase, 2)
	if err != nil {
		t.Fatal(err)
	}
	if d1 == d2 {
		t.Fatal("Dropouts with seeds 1 and 2 on one input were merged into one node")
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	if bEqual(bF64s(t, d1.Value()), bF64s(t, d2.Value())) {
		t.Error("two Dropout nodes drew the same mask")
	}
}

func TestDropoutErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 2, G.WithShape(3, 4), G.WithName("x"))
	_, err := Dropout(x, 1, &Phase{}, 0)
	bWantErr(t, "p = 1", err, "ops: Dropout", "probability 1", "want 0 <= p < 1")
	_, err = Dropout(x, -0.1, &Phase{}, 0)
	bWantErr(t, "p < 0", err, "probability -0.1")
	_, err = Dropout(x, math.NaN(), &Phase{}, 0)
	bWantErr(t, "p NaN", err, "probability NaN")
	_, err = Dropout(x, 0.5, nil, 0)
	bWantErr(t, "nil phase", err, "nil *Phase")
}

func bEqual(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
