package ops

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// slowSoftmax is the textbook formula without the max shift (fine for |x| ≤ 1).
func slowSoftmax(shape []int, x []float64, axis int, log bool) []float64 {
	outer, n, inner := splitAt(shape, axis)
	y := make([]float64, len(x))
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			var s float64
			for k := 0; k < n; k++ {
				s += math.Exp(x[(o*n+k)*inner+i])
			}
			for k := 0; k < n; k++ {
				p := (o*n+k)*inner + i
				y[p] = math.Exp(x[p]) / s
				if log {
					y[p] = math.Log(y[p])
				}
			}
		}
	}
	return y
}

func TestSoftmaxForward(t *testing.T) {
	shape := []int{2, 3, 4}
	x := gradcheck.Rand(7, shape)
	for _, axis := range []int{0, 1, 2, -1, -3} {
		for _, log := range []bool{false, true} {
			f := Softmax
			if log {
				f = LogSoftmax
			}
			name := fmt.Sprintf("log=%t axis=%d", log, axis)
			build := bUnary(func(x *G.Node) (*G.Node, error) { return f(x, axis) })
			_, got := bForward(t, build, x)
			want := slowSoftmax(shape, x.Data().([]float64), (axis+3)%3, log)
			bClose(t, name, got, want, 1e-15, 1e-14)
			_, got32 := bForward(t, build, bTo32(x))
			bClose(t, name+" float32", got32, want, 1e-6, 1e-6)
		}
	}
}

// Logits of ±1000 overflow exp without the max shift; the shifted form gives exact answers.
func TestSoftmaxStable(t *testing.T) {
	x := bDense([]int{1, 3}, []float64{1000, 1000, -1000})
	for _, in := range []bool{false, true} {
		v := x
		if in {
			v = bTo32(x)
		}
		_, p := bForward(t, bUnary(func(x *G.Node) (*G.Node, error) { return Softmax(x, 1) }), v)
		bClose(t, "Softmax(±1000)", p, []float64{0.5, 0.5, 0}, 1e-7, 0)
		_, lp := bForward(t, bUnary(func(x *G.Node) (*G.Node, error) { return LogSoftmax(x, 1) }), v)
		bClose(t, "LogSoftmax(±1000)", lp, []float64{-math.Ln2, -math.Ln2, -2000 - math.Ln2}, 1e-4, 1e-7)
	}
}

func TestSoftmaxGrad(t *testing.T) {
	x := gradcheck.Rand(8, []int{2, 3, 4})
	for _, axis := range []int{0, 1, -1} {
		gradcheck.Check(t, bUnary(func(x *G.Node) (*G.Node, error) { return Softmax(x, axis) }), x)
		gradcheck.Check(t, bUnary(func(x *G.Node) (*G.Node, error) { return LogSoftmax(x, axis) }), x)
	}
}

// Gorgonia merges nodes with equal op hash and children; its own SoftMax and LogSoftMax of one
// input collapse into one node. Ours must stay two nodes with two different values.
func TestSoftmaxNotMergedWithLogSoftmax(t *testing.T) {
	g := G.NewGraph()
	x := G.NodeFromAny(g, gradcheck.Rand(9, []int{2, 5}), G.WithName("x"))
	p, err := Softmax(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	lp, err := LogSoftmax(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Softmax(x, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p == lp {
		t.Fatal("Softmax and LogSoftmax of the same input were merged into one node")
	}
	if p != p2 {
		t.Error("two identical Softmax nodes were not merged (hash is not deterministic)")
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	pv, lv := bF64s(t, p.Value()), bF64s(t, lp.Value())
	for i := range pv {
		if math.Abs(math.Log(pv[i])-lv[i]) > 1e-12 || pv[i] <= 0 || lv[i] >= 0 {
			t.Fatalf("element %d: softmax %g, log-softmax %g", i, pv[i], lv[i])
		}
	}
}

func TestSoftmaxErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 2, G.WithShape(2, 3), G.WithName("x"))
	_, err := Softmax(x, 2)
	bWantErr(t, "axis 2 of rank 2", err, "ops: Softmax", "axis 2", "rank 2")
	_, err = LogSoftmax(x, -3)
	bWantErr(t, "axis -3 of rank 2", err, "ops: LogSoftmax", "axis -3")
}
