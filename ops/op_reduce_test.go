package ops

import (
	"fmt"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// slowReduce sums every input element into the output element whose index is the input's with
// the reduced axes zeroed: the definition, one element at a time.
func slowReduce(in []int, x []float64, axes []int, mean bool) []float64 {
	red := make([]bool, len(in))
	for _, a := range axes {
		red[(a+len(in))%len(in)] = true
	}
	if len(axes) == 0 {
		for i := range red {
			red[i] = true
		}
	}
	kept := append([]int(nil), in...)
	count := 1
	for i, r := range red {
		if r {
			kept[i] = 1
			count *= in[i]
		}
	}
	y := make([]float64, volume(kept))
	ks := rowMajorStrides(kept)
	idx := make([]int, len(in))
	for pos := range x {
		off := 0
		for i, k := range idx {
			if !red[i] {
				off += k * ks[i]
			}
		}
		y[off] += x[pos]
		for ax := len(idx) - 1; ax >= 0; ax-- {
			if idx[ax]++; idx[ax] < in[ax] {
				break
			}
			idx[ax] = 0
		}
	}
	if mean {
		for i := range y {
			y[i] /= float64(count)
		}
	}
	return y
}

var reduceCases = []struct {
	axes      []int
	keep      bool
	wantShape []int
}{
	{[]int{1}, true, []int{2, 1, 4, 5}},
	{[]int{-1}, false, []int{2, 3, 4}},
	{[]int{2, 3}, true, []int{2, 3, 1, 1}},
	{[]int{3, 2}, false, []int{2, 3}},
	{[]int{0, 2}, false, []int{3, 5}},
	{[]int{0, -3, 3}, true, []int{1, 1, 4, 1}},
	{[]int{1, 2, 3}, false, []int{2}},
	{nil, true, []int{1, 1, 1, 1}},
	{nil, false, []int{}},
}

func TestReduceForward(t *testing.T) {
	in := []int{2, 3, 4, 5}
	x := gradcheck.Rand(4, in)
	for _, c := range reduceCases {
		for _, mean := range []bool{false, true} {
			f := ReduceSum
			if mean {
				f = ReduceMean
			}
			name := fmt.Sprintf("mean=%t axes=%v keep=%t", mean, c.axes, c.keep)
			build := bUnary(func(x *G.Node) (*G.Node, error) { return f(x, c.axes, c.keep) })
			shape, got := bForward(t, build, x)
			bShape(t, name, shape, c.wantShape...)
			want := slowReduce(in, x.Data().([]float64), c.axes, mean)
			bClose(t, name, got, want, 1e-15, 1e-13)
			_, got32 := bForward(t, build, bTo32(x))
			bClose(t, name+" float32", got32, want, 1e-6, 1e-6)
		}
	}
}

func TestReduceGrad(t *testing.T) {
	x := gradcheck.Rand(5, []int{2, 3, 4, 3})
	for _, c := range reduceCases {
		for _, f := range []func(*G.Node, []int, bool) (*G.Node, error){ReduceSum, ReduceMean} {
			gradcheck.Check(t, bUnary(func(x *G.Node) (*G.Node, error) { return f(x, c.axes, c.keep) }), x)
		}
	}
}

// A reduction to a scalar is a valid loss: G.Grad accepts it directly.
func TestReduceScalarLoss(t *testing.T) {
	g := G.NewGraph()
	x := G.NodeFromAny(g, gradcheck.Rand(6, []int{3, 4}), G.WithName("x"))
	loss, err := ReduceMean(x, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, x); err != nil {
		t.Fatalf("G.Grad on a ReduceMean scalar: %v", err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	dx, _ := x.Grad()
	bClose(t, "d mean / dx", bF64s(t, dx), []float64{1. / 12, 1. / 12, 1. / 12, 1. / 12, 1. / 12, 1. / 12, 1. / 12, 1. / 12, 1. / 12, 1. / 12, 1. / 12, 1. / 12}, 0, 1e-15)
}

func TestReduceErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 3, G.WithShape(2, 3, 4), G.WithName("x"))
	_, err := ReduceSum(x, []int{3}, false)
	bWantErr(t, "axis 3 of rank 3", err, "ops: ReduceSum", "axis 3", "rank 3")
	_, err = ReduceMean(x, []int{-4}, false)
	bWantErr(t, "axis -4 of rank 3", err, "ops: ReduceMean", "axis -4")
	_, err = ReduceMean(x, []int{1, -2}, false)
	bWantErr(t, "repeated axis", err, "twice")
}
