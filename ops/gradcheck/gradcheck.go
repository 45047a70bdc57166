// Package gradcheck compares Gorgonia's symbolic gradients with central finite differences.
//
// Every custom op and every loss in ssl4dp is tested with it, in float64:
//
//	gradcheck.Check(t, func(g *G.ExprGraph, x G.Nodes) (*G.Node, error) {
//		return ops.GlobalAvgPool2D(x[0])
//	}, gradcheck.Rand(1, []int{2, 3, 4, 5}))
//
// The function's output may have any shape: it is reduced to a scalar L = Σ out ⊙ R with a
// fixed random R, so every output element's gradient path is exercised with a distinct weight.
// Each input element x is then checked: dL/dx from gorgonia.Grad against
// (L(x+ε) − L(x−ε)) / 2ε.
package gradcheck

import (
	"fmt"
	"math"
	"math/rand"
	"sort"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Options tune a check. The zero value means the defaults noted on each field.
type Options struct {
	Eps       float64 // finite-difference step; default 1e-6
	RelTol    float64 // relative tolerance; default 1e-5
	AbsTol    float64 // absolute tolerance; default 1e-7
	Seed      int64   // seed of the projection R; default 1
	MaxPoints int     // check at most this many elements per input (seeded sample); 0 = all
	WRT       []int   // which inputs to differentiate; default all
}

func (o Options) withDefaults() Options {
	if o.Eps == 0 {
		o.Eps = 1e-6
	}
	if o.RelTol == 0 {
		o.RelTol = 1e-5
	}
	if o.AbsTol == 0 {
		o.AbsTol = 1e-7
	}
	if o.Seed == 0 {
		o.Seed = 1
	}
	return o
}

// Build builds the function under test on the given input nodes.
type Build func(g *G.ExprGraph, inputs G.Nodes) (*G.Node, error)

// Rand returns a float64 tensor of the given shape with values uniform in [-1, 1).
func Rand(seed int64, shape []int) *tensor.Dense {
	r := rand.New(rand.NewSource(seed))
	n := 1
	for _, s := range shape {
		n *= s
	}
	data := make([]float64, n)
	for i := range data {
		data[i] = 2*r.Float64() - 1
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(data))
}

// Check runs the comparison with default options and reports mismatches through t.
func Check(t testing.TB, build Build, inputs ...*tensor.Dense) {
	t.Helper()
	CheckOpts(t, Options{}, build, inputs...)
}

// CheckOpts is Check with options.
func CheckOpts(t testing.TB, o Options, build Build, inputs ...*tensor.Dense) {
	t.Helper()
	if err := Compare(o, build, inputs...); err != nil {
		t.Error(err)
	}
}

// graph is one instance of the function: inputs bound to private copies, L built.
type graph struct {
	g    *G.ExprGraph
	xs   G.Nodes
	data [][]float64 // backing arrays of the inputs, perturbed in place
	loss *G.Node
	vm   G.VM
}

func newGraph(o Options, build Build, inputs []*tensor.Dense, withGrad bool) (*graph, error) {
	gr := &graph{g: G.NewGraph()}
	for i, in := range inputs {
		if in.Dtype() != tensor.Float64 {
			return nil, fmt.Errorf("gradcheck: input %d is %v; use float64 inputs", i, in.Dtype())
		}
		c := in.Clone().(*tensor.Dense)
		gr.data = append(gr.data, c.Data().([]float64))
		gr.xs = append(gr.xs, G.NodeFromAny(gr.g, c, G.WithName(fmt.Sprintf("x%d", i))))
	}
	out, err := build(gr.g, gr.xs)
	if err != nil {
		return nil, err
	}
	n := out.Shape().TotalSize()
	r := rand.New(rand.NewSource(o.Seed))
	rdata := make([]float64, n)
	for i := range rdata {
		rdata[i] = 2*r.Float64() - 1
	}
	// Flatten and reduce along one axis only: a single-axis Sum is the reduction we trust.
	flat, err := G.Reshape(out, tensor.Shape{n})
	if err != nil {
		return nil, fmt.Errorf("gradcheck: flattening output %v: %w", out.Shape(), err)
	}
	rn := G.NewVector(gr.g, tensor.Float64, G.WithShape(n), G.WithValue(tensor.New(tensor.WithShape(n), tensor.WithBacking(rdata))), G.WithName("R"))
	prod, err := G.HadamardProd(flat, rn)
	if err != nil {
		return nil, err
	}
	if gr.loss, err = G.Sum(prod, 0); err != nil {
		return nil, err
	}
	if withGrad {
		var wrt G.Nodes
		for _, i := range wrtList(o, len(inputs)) {
			wrt = append(wrt, gr.xs[i])
		}
		if _, err := G.Grad(gr.loss, wrt...); err != nil {
			return nil, fmt.Errorf("gradcheck: symbolic gradient: %w", err)
		}
	}
	gr.vm = G.NewTapeMachine(gr.g)
	return gr, nil
}

func (gr *graph) run() (float64, error) {
	gr.vm.Reset()
	if err := gr.vm.RunAll(); err != nil {
		return 0, err
	}
	return gr.loss.Value().Data().(float64), nil
}

func wrtList(o Options, n int) []int {
	if len(o.WRT) > 0 {
		return o.WRT
	}
	l := make([]int, n)
	for i := range l {
		l[i] = i
	}
	return l
}

// mismatch is one element whose gradients disagree.
type mismatch struct {
	input, index      int
	analytic, numeric float64
	excess            float64
}

// Compare returns an error describing the worst mismatches, or nil.
func Compare(o Options, build Build, inputs ...*tensor.Dense) error {
	o = o.withDefaults()
	ag, err := newGraph(o, build, inputs, true)
	if err != nil {
		return err
	}
	defer ag.vm.Close()
	if _, err := ag.run(); err != nil {
		return fmt.Errorf("gradcheck: running forward+backward: %w", err)
	}
	fg, err := newGraph(o, build, inputs, false)
	if err != nil {
		return err
	}
	defer fg.vm.Close()

	var bad []mismatch
	checked := 0
	for _, i := range wrtList(o, len(inputs)) {
		gv, err := ag.xs[i].Grad()
		if err != nil {
			return fmt.Errorf("gradcheck: input %d has no gradient: %w", i, err)
		}
		analytic := gv.Data().([]float64)
		idx := sample(len(fg.data[i]), o.MaxPoints, o.Seed+int64(i))
		for _, j := range idx {
			x := fg.data[i][j]
			fg.data[i][j] = x + o.Eps
			lp, err := fg.run()
			if err != nil {
				return err
			}
			fg.data[i][j] = x - o.Eps
			lm, err := fg.run()
			if err != nil {
				return err
			}
			fg.data[i][j] = x
			num := (lp - lm) / (2 * o.Eps)
			a := analytic[j]
			tol := o.AbsTol + o.RelTol*math.Max(math.Abs(a), math.Abs(num))
			if d := math.Abs(a - num); d > tol || math.IsNaN(a) {
				bad = append(bad, mismatch{i, j, a, num, d / tol})
			}
			checked++
		}
	}
	if len(bad) == 0 {
		return nil
	}
	sort.Slice(bad, func(a, b int) bool { return bad[a].excess > bad[b].excess })
	msg := fmt.Sprintf("gradcheck: %d of %d gradient entries disagree with finite differences; worst:", len(bad), checked)
	for k, m := range bad {
		if k == 5 {
			break
		}
		msg += fmt.Sprintf("\n  input %d [%d]: analytic %.9g, numeric %.9g", m.input, m.index, m.analytic, m.numeric)
	}
	return fmt.Errorf("%s", msg)
}

func sample(n, max int, seed int64) []int {
	idx := rand.New(rand.NewSource(seed)).Perm(n)
	if max > 0 && max < n {
		idx = idx[:max]
		sort.Ints(idx)
		return idx
	}
	sort.Ints(idx)
	return idx
}
