package ops

import (
	"fmt"
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// newBNState returns running statistics with a non-trivial mean and a positive variance.
func newBNState(dt tensor.Dtype, c int, training bool, seed int64) *BNState {
	mean := aRand(dt, seed, c)
	v := gradcheck.Rand(seed+1, []int{c})
	vs := v.Data().([]float64)
	for i := range vs {
		vs[i] = 0.5 + math.Abs(vs[i])
	}
	if dt == tensor.Float32 {
		v = aTo32(v)
	}
	return &BNState{Mean: mean, Var: v, Momentum: 0.9, Eps: 1e-5, Phase: &Phase{Training: training}, Unbiased: true}
}

// directBN is the textbook BatchNorm: it returns y and the running statistics after the update.
func directBN(x, scale, bias []float64, shape []int, mean, variance []float64, st *BNState, training bool) (y, rm, rv []float64) {
	n, c := shape[0], shape[1]
	inner := len(x) / (n * c)
	m := float64(n * inner)
	y = make([]float64, len(x))
	rm, rv = append([]float64(nil), mean...), append([]float64(nil), variance...)
	for ci := 0; ci < c; ci++ {
		var idx []int
		for ni := 0; ni < n; ni++ {
			for k := 0; k < inner; k++ {
				idx = append(idx, (ni*c+ci)*inner+k)
			}
		}
		mu, vr := mean[ci], variance[ci]
		if training {
			mu, vr = 0, 0
			for _, i := range idx {
				mu += x[i] / m
			}
			for _, i := range idx {
				vr += (x[i] - mu) * (x[i] - mu) / m
			}
			unb := vr
			if st.Unbiased {
				unb = vr * m / (m - 1)
			}
			rm[ci] = mean[ci]*st.Momentum + mu*(1-st.Momentum)
			rv[ci] = variance[ci]*st.Momentum + unb*(1-st.Momentum)
		}
		for _, i := range idx {
			y[i] = scale[ci]*(x[i]-mu)/math.Sqrt(vr+st.eps()) + bias[ci]
		}
	}
	return y, rm, rv
}

var bnShapes = [][]int{{2, 3, 2, 3}, {5, 4}, {2, 2, 3, 1, 2}}

func TestBatchNormMatchesDirect(t *testing.T) {
	for _, shape := range bnShapes {
		for _, training := range []bool{true, false} {
			for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
				t.Run(fmt.Sprintf("%v/training=%t/%v", shape, training, dt), func(t *testing.T) {
					c := shape[1]
					x, scale, bias := aRand(dt, 1, shape...), aRand(dt, 2, c), aRand(dt, 3, c)
					st := newBNState(dt, c, training, 4)
					st.Unbiased = training && len(shape) == 4 // both running-variance rules
					mean0, var0 := aF64(st.Mean), aF64(st.Var)
					got := aEval(t, func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) {
						return BatchNorm(in[0], in[1], in[2], st)
					}, x, scale, bias)
					y, rm, rv := directBN(aF64(x), aF64(scale), aF64(bias), shape, mean0, var0, st, training)
					tol := 1e-12
					if dt == tensor.Float32 {
						tol = 1e-5
					}
					aClose(t, "y", aF64(got), y, tol)
					aClose(t, "running mean", aF64(st.Mean), rm, tol)
					aClose(t, "running var", aF64(st.Var), rv, tol)
				})
			}
		}
	}
}

func TestBatchNormGradients(t *testing.T) {
	for _, op := range []struct {
		name string
		f    func(x, scale, bias *G.Node, st *BNState) (*G.Node, error)
	}{{"BatchNorm", BatchNorm}, {"BatchNormRelu", BatchNormRelu}} {
		for _, shape := range bnShapes {
			for _, training := range []bool{true, false} {
				t.Run(fmt.Sprintf("%s/%v/training=%t", op.name, shape, training), func(t *testing.T) {
					c := shape[1]
					st := newBNState(tensor.Float64, c, training, 4)
					gradcheck.Check(t, func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) {
						return op.f(in[0], in[1], in[2], st)
					}, gradcheck.Rand(1, shape), gradcheck.Rand(2, []int{c}), gradcheck.Rand(3, []int{c}))
				})
			}
		}
	}
}

// A BatchNorm whose output feeds the loss only through a product with a constant: the
// gradient ops must still run after the forward pass that records the statistics.
func TestBatchNormGradientAfterForward(t *testing.T) {
	st := newBNState(tensor.Float64, 3, true, 4)
	gradcheck.Check(t, func(g *G.ExprGraph, in G.Nodes) (*G.Node, error) {
		y, err := BatchNorm(in[0], in[1], in[2], st)
		if err != nil {
			return nil, err
		}
		return G.Mul(y, G.NewConstant(2.0))
	}, gradcheck.Rand(1, []int{4, 3}), gradcheck.Rand(2, []int{3}), gradcheck.Rand(3, []int{3}))
}

// Two BatchNorms with different states on one input must stay two nodes (Gorgonia merges
// nodes with equal op hash and children) and give different outputs.
func TestBatchNormNotMerged(t *testing.T) {
	g := G.NewGraph()
	x := G.NodeFromAny(g, aRand(tensor.Float64, 1, 2, 3, 2, 2), G.WithName("x"))
	scale := G.NodeFromAny(g, aRand(tensor.Float64, 2, 3), G.WithName("scale"))
	bias := G.NodeFromAny(g, aRand(tensor.Float64, 3, 3), G.WithName("bias"))
	a, err := BatchNorm(x, scale, bias, newBNState(tensor.Float64, 3, false, 10))
	if err != nil {
		t.Fatal(err)
	}
	b, err := BatchNorm(x, scale, bias, newBNState(tensor.Float64, 3, false, 20))
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two BatchNorms with different states were merged into one node")
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	av, bv := aF64(a.Value().(*tensor.Dense)), aF64(b.Value().(*tensor.Dense))
	same := true
	for i := range av {
		same = same && av[i] == bv[i]
	}
	if same {
		t.Error("the two BatchNorms gave identical outputs")
	}
}

// One graph and one machine run in training mode, then in eval mode: the running statistics
// survive a new machine and the eval run, and the eval output uses them.
func TestBatchNormModeSwitch(t *testing.T) {
	shape := []int{4, 2, 3, 3}
	xv, scalev, biasv := aRand(tensor.Float32, 1, shape...), aRand(tensor.Float32, 2, 2), aRand(tensor.Float32, 3, 2)
	st := newBNState(tensor.Float32, 2, true, 4)
	g := G.NewGraph()
	x, scale, bias := G.NodeFromAny(g, xv, G.WithName("x")), G.NodeFromAny(g, scalev, G.WithName("s")), G.NodeFromAny(g, biasv, G.WithName("b"))
	y, err := BatchNorm(x, scale, bias, st)
	if err != nil {
		t.Fatal(err)
	}
	loss := G.Must(G.Sum(G.Must(G.Reshape(G.Must(G.Square(y)), tensor.Shape{y.Shape().TotalSize()}))))
	if _, err := G.Grad(loss, x, scale, bias); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()

	mean0, var0 := aF64(st.Mean), aF64(st.Var)
	const steps = 3
	wantMean, wantVar := mean0, var0
	for i := 0; i < steps; i++ {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		_, wantMean, wantVar = directBN(aF64(xv), aF64(scalev), aF64(biasv), shape, wantMean, wantVar, st, true)
	}
	aClose(t, "running mean after 3 training runs", aF64(st.Mean), wantMean, 1e-5)
	aClose(t, "running var after 3 training runs", aF64(st.Var), wantVar, 1e-5)
	wantMean, wantVar = aF64(st.Mean), aF64(st.Var) // from here on, exactly these

	// Gorgonia's own BatchNorm loses its statistics here.
	vm2 := G.NewTapeMachine(g)
	vm2.Close()
	aClose(t, "running mean after NewTapeMachine", aF64(st.Mean), wantMean, 0)

	st.Phase.Training = false
	vm.Reset()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	aClose(t, "running mean after eval run", aF64(st.Mean), wantMean, 0)
	aClose(t, "running var after eval run", aF64(st.Var), wantVar, 0)
	evalY, _, _ := directBN(aF64(xv), aF64(scalev), aF64(biasv), shape, wantMean, wantVar, st, false)
	aClose(t, "eval output", aF64(y.Value().(*tensor.Dense)), evalY, 1e-5)
	// The eval gradient is that of the affine map: dL/dx = 2y·scale/√(var+eps).
	dx, err := x.Grad()
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, len(evalY))
	for i := range want {
		ci := (i / 9) % 2
		want[i] = 2 * evalY[i] * aF64(scalev)[ci] / math.Sqrt(wantVar[ci]+st.eps())
	}
	aClose(t, "eval dx", aF64(dx.(*tensor.Dense)), want, 1e-5)
}

func TestBatchNormErrors(t *testing.T) {
	g := G.NewGraph()
	n := func(dt tensor.Dtype, shape ...int) *G.Node {
		return G.NewTensor(g, dt, len(shape), G.WithShape(shape...))
	}
	f64, f32 := tensor.Float64, tensor.Float32
	x, c3 := n(f64, 2, 3, 4, 4), n(f64, 3)
	ok := func() *BNState { return newBNState(f64, 3, true, 1) }
	with := func(f func(*BNState)) *BNState { s := ok(); f(s); return s }
	cases := []struct {
		name           string
		x, scale, bias *G.Node
		st             *BNState
		frags          []string
	}{
		{"x 1-D", n(f64, 3), c3, c3, ok(), []string{"x has shape (3)"}},
		{"scale", x, n(f64, 4), c3, ok(), []string{"scale has shape (4)", "want [3]"}},
		{"bias dtype", x, c3, n(f32, 3), ok(), []string{"bias is float32 but x is float64"}},
		{"mean shape", x, c3, c3, with(func(s *BNState) { s.Mean = aRand(f64, 1, 4) }), []string{"running Mean has shape (4)"}},
		{"var dtype", x, c3, c3, with(func(s *BNState) { s.Var = aRand(f32, 1, 3) }), []string{"running Var is float32"}},
		{"momentum", x, c3, c3, with(func(s *BNState) { s.Momentum = 1.5 }), []string{"momentum 1.5"}},
		{"eps", x, c3, c3, with(func(s *BNState) { s.Eps = -1 }), []string{"eps -1"}},
		{"phase", x, c3, c3, with(func(s *BNState) { s.Phase = nil }), []string{"Phase"}},
		{"nil state", x, c3, c3, nil, []string{"state needs"}},
	}
	for _, c := range cases {
		_, err := BatchNorm(c.x, c.scale, c.bias, c.st)
		aWantErr(t, c.name, err, c.frags...)
	}
}

// Training with one value per channel has no variance to normalise by; PyTorch refuses it too.
func TestBatchNormSingleValueTraining(t *testing.T) {
	g := G.NewGraph()
	x := G.NodeFromAny(g, aRand(tensor.Float64, 1, 1, 3), G.WithName("x"))
	s, b := G.NodeFromAny(g, aRand(tensor.Float64, 2, 3)), G.NodeFromAny(g, aRand(tensor.Float64, 3, 3))
	if _, err := BatchNorm(x, s, b, newBNState(tensor.Float64, 3, true, 1)); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	err := vm.RunAll()
	if err == nil {
		t.Fatal("no error for training BatchNorm on one value per channel")
	}
	aWantErr(t, "run", aUnwrapOps(err), "more than one value per channel")
}
