package ops

import (
	"math"
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
