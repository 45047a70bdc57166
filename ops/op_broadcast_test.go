package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// slowBroadcast applies f to every output multi-index, reading each operand at the index
// clipped to 0 on its size-1 (or missing, leading) axes: numpy's rule, written out.
func slowBroadcast(as, bs []int, a, b []float64, f func(x, y float64) float64) ([]int, []float64) {
	out, err := broadcastShape(as, bs)
	if err != nil {
		panic(err)
	}
	y := make([]float64, volume(out))
	idx := make([]int, len(out))
	at := func(s []int, d []float64) float64 {
		off, st := 0, 1
		for i := len(s) - 1; i >= 0; i-- {
			k := idx[len(out)-len(s)+i]
			if s[i] == 1 {
				k = 0
			}
			off += k * st
			st *= s[i]
		}
		return d[off]
	}
	for pos := range y {
		y[pos] = f(at(as, a), at(bs, b))
		for ax := len(idx) - 1; ax >= 0; ax-- {
			if idx[ax]++; idx[ax] < out[ax] {
				break
			}
			idx[ax] = 0
		}
	}
	return out, y
}

var broadcastCases = []struct{ a, b []int }{
	{[]int{2, 3, 4, 5}, []int{3, 1, 1}},
	{[]int{1}, []int{2, 3}},
	{[]int{4, 1}, []int{1, 5}},
	{[]int{2, 3}, []int{2, 3}},
	{[]int{3, 1, 5}, []int{2, 1, 4, 1}},
	{[]int{2, 1, 3}, []int{}},
	{[]int{}, []int{}},
}

var arithFns = []struct {
	name string
	op   func(a, b *G.Node) (*G.Node, error)
	f    func(x, y float64) float64
}{
	{"Add", Add, func(x, y float64) float64 { return x + y }},
	{"Sub", Sub, func(x, y float64) float64 { return x - y }},
	{"Mul", Mul, func(x, y float64) float64 { return x * y }},
	{"Div", Div, func(x, y float64) float64 { return x / y }},
}

// randAway is gradcheck.Rand moved away from zero (|v| in [0.5, 1.5)), so Div stays smooth.
// A scalar shape gives a one-element vector, which scalarize turns into a scalar node.
func randAway(seed int64, shape []int) *tensor.Dense {
	if len(shape) == 0 {
		shape = []int{1}
	}
	x := gradcheck.Rand(seed, shape)
	for i, v := range x.Data().([]float64) {
		if v < 0 {
			x.Data().([]float64)[i] = v - 0.5
		} else {
			x.Data().([]float64)[i] = v + 0.5
		}
	}
	return x
}

// arithBuild applies fn to the two inputs, first reducing an input to a scalar node where the
// case asks for a scalar operand (gradcheck feeds only tensors).
func arithBuild(fn func(a, b *G.Node) (*G.Node, error), as, bs []int) gradcheck.Build {
	return func(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) {
		a, b := x[0], x[1]
		var err error
		if len(as) == 0 {
			if a, err = ReduceSum(a, nil, false); err != nil {
				return nil, err
			}
		}
		if len(bs) == 0 {
			if b, err = ReduceSum(b, nil, false); err != nil {
				return nil, err
			}
		}
		return fn(a, b)
	}
}

func TestBroadcastForward(t *testing.T) {
	for _, c := range broadcastCases {
		a, b := randAway(1, c.a), randAway(2, c.b)
		for _, fn := range arithFns {
			wantShape, want := slowBroadcast(c.a, c.b, a.Data().([]float64), b.Data().([]float64), fn.f)
			build := arithBuild(fn.op, c.a, c.b)
			shape, got := bForward(t, build, a, b)
			bShape(t, fn.name, shape, wantShape...)
			bClose(t, fn.name, got, want, 0, 1e-15)
			_, got32 := bForward(t, build, bTo32(a), bTo32(b))
			bClose(t, fn.name+" float32", got32, want, 1e-6, 1e-6)
		}
	}
}

func TestBroadcastGrad(t *testing.T) {
	for _, c := range broadcastCases {
		for _, fn := range arithFns {
			build := arithBuild(fn.op, c.a, c.b)
			if err := gradcheck.Compare(gradcheck.Options{}, build, randAway(1, c.a), randAway(2, c.b)); err != nil {
				t.Errorf("%s %v, %v: %v", fn.name, c.a, c.b, err)
			}
		}
	}
}

// The same node on both sides: both gradient terms must reach it and be summed.
func TestBroadcastSameOperand(t *testing.T) {
	gradcheck.Check(t, bUnary(func(x *G.Node) (*G.Node, error) { return Mul(x, x) }), randAway(3, []int{2, 3}))
	gradcheck.Check(t, bUnary(func(x *G.Node) (*G.Node, error) { return Div(x, x) }), randAway(3, []int{2, 3}))
}

func TestBroadcastErrors(t *testing.T) {
	g := G.NewGraph()
	a := G.NewTensor(g, G.Float64, 2, G.WithShape(2, 3), G.WithName("a"))
	b := G.NewTensor(g, G.Float64, 2, G.WithShape(2, 4), G.WithName("b"))
	_, err := Add(a, b)
	bWantErr(t, "Add [2,3]+[2,4]", err, "ops: Add", `"a"`, "[2 3]", "[2 4]", "3 vs 4")
	_, err = Mul(a, nil)
	bWantErr(t, "nil operand", err, "ops: Mul", "nil")
}
