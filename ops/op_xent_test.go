package ops

import (
	"fmt"
	"math"
	"runtime"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// slowXent is PyTorch's mean cross-entropy with ignore_index written out per position.
func slowXent(shape []int, x, labels []float64, ignore int) float64 {
	outer, c, inner := splitAt(shape, 1)
	var total float64
	count := 0
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			l := labels[o*inner+i]
			if l == float64(ignore) {
				continue
			}
			var s float64
			for k := 0; k < c; k++ {
				s += math.Exp(x[(o*c+k)*inner+i])
			}
			total -= math.Log(math.Exp(x[(o*c+int(l))*inner+i]) / s)
			count++
		}
	}
	return total / float64(count)
}

// xentLabels draws labels in [0, c) with every third one set to ignore.
func xentLabels(shape []int, c, ignore int) *tensor.Dense {
	n := volume(shape)
	d := make([]float64, n)
	for i := range d {
		d[i] = float64((i*7 + 3) % c)
		if i%3 == 1 {
			d[i] = float64(ignore)
		}
	}
	return bDense(shape, d)
}

func xentBuild(ignore int) gradcheck.Build {
	return func(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) { return SoftmaxCrossEntropy(x[0], x[1], ignore) }
}

func TestXentForward(t *testing.T) {
	for _, shape := range [][]int{{6, 5}, {2, 4, 3, 2}, {1, 3, 5}} {
		x := gradcheck.Rand(10, shape)
		lshape := append([]int{shape[0]}, shape[2:]...)
		labels := xentLabels(lshape, shape[1], 255)
		want := slowXent(shape, x.Data().([]float64), labels.Data().([]float64), 255)
		s, got := bForward(t, xentBuild(255), x, labels)
		bShape(t, "SoftmaxCrossEntropy", s)
		bClose(t, "SoftmaxCrossEntropy", got, []float64{want}, 0, 1e-14)
		_, got32 := bForward(t, xentBuild(255), bTo32(x), bTo32(labels))
		bClose(t, "SoftmaxCrossEntropy float32", got32, []float64{want}, 1e-6, 1e-6)
	}
}

func TestXentGrad(t *testing.T) {
	for _, shape := range [][]int{{6, 5}, {2, 4, 3, 2}} {
		lshape := append([]int{shape[0]}, shape[2:]...)
		for _, ignore := range []int{255, -100, 2} {
			gradcheck.CheckOpts(t, gradcheck.Options{WRT: []int{0}}, xentBuild(ignore),
				gradcheck.Rand(11, shape), xentLabels(lshape, shape[1], ignore))
		}
	}
}

// With every label ignored the loss is 0 and so is every gradient (PyTorch would give NaN).
func TestXentAllIgnored(t *testing.T) {
	g := G.NewGraph()
	x := G.NodeFromAny(g, gradcheck.Rand(12, []int{2, 3, 2}), G.WithName("logits"))
	y := G.NodeFromAny(g, bDense([]int{2, 2}, []float64{255, 255, 255, 255}), G.WithName("labels"))
	loss, err := SoftmaxCrossEntropy(x, y, 255)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, x); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	bClose(t, "loss", bF64s(t, loss.Value()), []float64{0}, 0, 0)
	dx, _ := x.Grad()
	bClose(t, "gradient", bF64s(t, dx), make([]float64, 12), 0, 0)
}

// A label that is neither a class nor the ignore value stops the run with an error naming it.
func TestXentBadLabel(t *testing.T) {
	for _, c := range []struct {
		label float64
		frag  string
	}{{5, "label 5 at position 2"}, {-1, "label -1"}, {2.5, "label 2.5"}, {254, "label 254"}} {
		g := G.NewGraph()
		x := G.NodeFromAny(g, gradcheck.Rand(13, []int{4, 5}), G.WithName("logits"))
		y := G.NodeFromAny(g, bDense([]int{4}, []float64{0, 255, c.label, 1}), G.WithName("labels"))
		loss, err := SoftmaxCrossEntropy(x, y, 255)
		if err != nil {
			t.Fatal(err)
		}
		vm := G.NewTapeMachine(g)
		err = vm.RunAll()
		vm.Close()
		bWantErr(t, "bad label", err, c.frag, "[0, 5)", "255")
		_ = loss
	}
}

func TestXentShapeErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 4, G.WithShape(2, 3, 4, 5), G.WithName("logits"))
	y := G.NewTensor(g, G.Float64, 3, G.WithShape(2, 4, 4), G.WithName("labels"))
	_, err := SoftmaxCrossEntropy(x, y, 255)
	bWantErr(t, "label shape", err, "ops: SoftmaxCrossEntropy", `"labels"`, "(2, 4, 4)", "want (2, 4, 5)")
	v := G.NewVector(g, G.Float64, G.WithShape(3), G.WithName("v"))
	_, err = SoftmaxCrossEntropy(v, y, 255)
	bWantErr(t, "rank-1 logits", err, "want [N, C]")
}

// xentStep runs the loss and its gradient with respect to the logits on a tape machine and
// returns both as float64 (exact for float32 values).
func xentStep(t *testing.T, logits, labels *tensor.Dense, ignore int) (loss, grad []float64) {
	t.Helper()
	g := G.NewGraph()
	x := G.NodeFromAny(g, logits.Clone().(*tensor.Dense), G.WithName("logits"))
	y := G.NodeFromAny(g, labels.Clone().(*tensor.Dense), G.WithName("labels"))
	l, err := SoftmaxCrossEntropy(x, y, ignore)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(l, x); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	dx, err := x.Grad()
	if err != nil {
		t.Fatal(err)
	}
	return bF64s(t, l.Value()), bF64s(t, dx)
}

// xentCases are the layouts the kernels tell apart: positions after the class axis in
// several blocks with a short last one, a single short block, and none ([N, C] rows, the
// contrastive losses' layout). Logits spread over ±spread.
var xentCases = []struct {
	shape  []int
	spread float64
}{
	{[]int{3, 21, 17, 23}, 8},
	{[]int{2, 5, 3}, 3},
	{[]int{37, 50}, 8},
	{[]int{4, 7, 300}, 150}, // exp(x − max) underflows float32 for many classes
}

// The float32 path (exp32, float32 storage) agrees with the float64 one (math.Exp) on the
// same logits, forward and backward.
func TestXentFloat32MatchesFloat64(t *testing.T) {
	for _, c := range xentCases {
		x := gradcheck.Rand(21, c.shape)
		xd := x.Data().([]float64)
		for i := range xd {
			xd[i] = float64(float32(xd[i] * c.spread)) // both paths see the same values
		}
		lshape := append([]int{c.shape[0]}, c.shape[2:]...)
		labels := xentLabels(lshape, c.shape[1], 255)
		loss64, grad64 := xentStep(t, x, labels, 255)
		loss32, grad32 := xentStep(t, bTo32(x), bTo32(labels), 255)
		bClose(t, fmt.Sprintf("%v loss", c.shape), loss32, loss64, 0, 1e-6)
		// Gradients are softmax/count in [0, 1/count]: measure against that scale.
		w := 1 / float64(volume(lshape)-volume(lshape)/3)
		bClose(t, fmt.Sprintf("%v gradient", c.shape), grad32, grad64, 2e-7*w, 1e-5)
	}
}

// Loss and gradient are the same bits for any number of CPUs, with every split forced.
func TestXentSameBitsAnyGOMAXPROCS(t *testing.T) {
	work, procs := minParallelWork, runtime.GOMAXPROCS(0)
	defer func() { minParallelWork = work; runtime.GOMAXPROCS(procs) }()
	minParallelWork = 0
	for _, c := range append(xentCases, struct {
		shape  []int
		spread float64
	}{[]int{8, 21, 40, 40}, 8}) {
		x := gradcheck.Rand(22, c.shape)
		xd := x.Data().([]float64)
		for i := range xd {
			xd[i] *= c.spread
		}
		labels := xentLabels(append([]int{c.shape[0]}, c.shape[2:]...), c.shape[1], 255)
		for _, f32 := range []bool{true, false} {
			xs, ls := x, labels
			if f32 {
				xs, ls = bTo32(x), bTo32(labels)
			}
			var wantLoss, wantGrad []float64
			for _, p := range []int{1, 2, 3, 8} {
				runtime.GOMAXPROCS(p)
				loss, grad := xentStep(t, xs, ls, 255)
				if p == 1 {
					wantLoss, wantGrad = loss, grad
					continue
				}
				if !sameBits(loss, wantLoss) || !sameBits(grad, wantGrad) {
					t.Errorf("%v (float32 %v): results differ between GOMAXPROCS 1 and %d", c.shape, f32, p)
				}
			}
		}
	}
}

func sameBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// A NaN logit makes the loss NaN (a diverging run must show in its loss) and its position's
// gradient NaN, wherever it lies among the classes, unless the position is ignored; other
// positions keep finite gradients.
func TestXentNaN(t *testing.T) {
	for _, shape := range [][]int{{2, 4, 3}, {3, 4}} {
		lshape := append([]int{shape[0]}, shape[2:]...)
		_, c, inner := splitAt(shape, 1)
		for _, class := range []int{0, 2} {
			for _, ignored := range []bool{false, true} {
				x := gradcheck.Rand(23, shape)
				lab := make([]float64, volume(lshape)) // all class 1
				for i := range lab {
					lab[i] = 1
				}
				pos := 1 // image 0, position 1 (or row 1)
				if ignored {
					lab[pos] = 255
				}
				x.Data().([]float64)[(pos/inner*c+class)*inner+pos%inner] = math.NaN()
				for _, f32 := range []bool{false, true} {
					xs, ls := x, bDense(lshape, lab)
					if f32 {
						xs, ls = bTo32(xs), bTo32(ls)
					}
					what := fmt.Sprintf("%v NaN in class %d, ignored %v, float32 %v", shape, class, ignored, f32)
					loss, grad := xentStep(t, xs, ls, 255)
					if math.IsNaN(loss[0]) == ignored {
						t.Errorf("%s: loss %v", what, loss[0])
					}
					for i, d := range grad {
						atPos := i%inner == pos%inner && i/(c*inner) == pos/inner
						if want := atPos && !ignored; math.IsNaN(d) != want {
							t.Errorf("%s: gradient %d is %v, want NaN %v", what, i, d, want)
						}
						if atPos && ignored && d != 0 {
							t.Errorf("%s: gradient %d of the ignored position is %v, want 0", what, i, d)
						}
					}
				}
			}
		}
	}
}

// Labels that are not whole numbers in range fail in both types, NaN and infinities
// included, with the same message as other bad labels.
func TestXentBadLabelSpecials(t *testing.T) {
	for _, label := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), 1e30, -1e30, 0x1p63, 3.0000002} {
		for _, f32 := range []bool{false, true} {
			x, y := gradcheck.Rand(13, []int{4, 5}), bDense([]int{4}, []float64{0, 255, label, 1})
			if f32 {
				x, y = bTo32(x), bTo32(y)
			}
			g := G.NewGraph()
			xn := G.NodeFromAny(g, x, G.WithName("logits"))
			yn := G.NodeFromAny(g, y, G.WithName("labels"))
			if _, err := SoftmaxCrossEntropy(xn, yn, 255); err != nil {
				t.Fatal(err)
			}
			vm := G.NewTapeMachine(g)
			err := vm.RunAll()
			vm.Close()
			bWantErr(t, fmt.Sprintf("label %v (float32 %v)", label, f32), err, "at position 2", "not a class in [0, 5)")
		}
	}
}
