package pretext

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// lossOf builds fn on float64 inputs and returns the scalar it computes.
func lossOf(t *testing.T, fn gradcheck.Build, inputs ...*tensor.Dense) float64 {
	t.Helper()
	g := G.NewGraph()
	var xs G.Nodes
	for i, in := range inputs {
		xs = append(xs, G.NodeFromAny(g, in.Clone().(*tensor.Dense), G.WithName(fmt.Sprintf("x%d", i))))
	}
	out, err := fn(g, xs)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	switch v := out.Value().Data().(type) {
	case float64:
		return v
	case []float64:
		if len(v) == 1 {
			return v[0]
		}
	}
	t.Fatalf("loss has shape %v, want a scalar", out.Shape())
	return 0
}

func mat(rows, cols int, v ...float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(rows, cols), tensor.WithBacking(v))
}

// unitRows is a rows×d matrix of random unit vectors.
func unitRows(r *rand.Rand, rows, d int) *tensor.Dense {
	v := make([]float64, rows*d)
	for i := 0; i < rows; i++ {
		var s float64
		for j := 0; j < d; j++ {
			v[i*d+j] = r.NormFloat64()
			s += v[i*d+j] * v[i*d+j]
		}
		for j := 0; j < d; j++ {
			v[i*d+j] /= math.Sqrt(s)
		}
	}
	return mat(rows, d, v...)
}

// eye is rows of the d×d identity starting at row `from`.
func eye(rows, d, from int) *tensor.Dense {
	v := make([]float64, rows*d)
	for i := 0; i < rows; i++ {
		v[i*d+from+i] = 1
	}
	return mat(rows, d, v...)
}

func near(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
		t.Errorf("%s = %.12g, want %.12g", what, got, want)
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func row(m *tensor.Dense, i int) []float64 {
	d := m.Shape()[1]
	return m.Data().([]float64)[i*d : (i+1)*d]
}

// logSumExp over xs, the textbook way (max-shifted).
func logSumExp(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	var s float64
	for _, x := range xs {
		s += math.Exp(x - m)
	}
	return m + math.Log(s)
}

func infoNCE(q, k, neg *G.Node, T float64) gradcheck.Build {
	return func(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) { return InfoNCE(x[0], x[1], x[2], T) }
}

// slowInfoNCE is MoCo's loss written from the paper's equation, one query at a time.
func slowInfoNCE(q, k, neg *tensor.Dense, T float64) float64 {
	n, kk := q.Shape()[0], neg.Shape()[0]
	var total float64
	for i := 0; i < n; i++ {
		logits := []float64{dot(row(q, i), row(k, i)) / T}
		for j := 0; j < kk; j++ {
			logits = append(logits, dot(row(q, i), row(neg, j))/T)
		}
		total += logSumExp(logits) - logits[0]
	}
	return total / float64(n)
}

func TestInfoNCEClosedForms(t *testing.T) {
	build := func(T float64) gradcheck.Build {
		return func(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) { return InfoNCE(x[0], x[1], x[2], T) }
	}
	for _, T := range []float64{0.07, 0.2, 1} {
		// q_i = k_i = e_i and negatives orthogonal to every query: logits [1/T, 0, …, 0].
		n, K, d := 3, 5, 8
		got := lossOf(t, build(T), eye(n, d, 0), eye(n, d, 0), eye(K, d, n))
		near(t, fmt.Sprintf("orthogonal, T=%v", T), got, math.Log(1+float64(K)*math.Exp(-1/T)), 1e-12)
		// Every key and negative equals the query: K+1 equal logits.
		q := mat(2, 2, 0.6, 0.8, 0.6, 0.8)
		neg := mat(4, 2, 0.6, 0.8, 0.6, 0.8, 0.6, 0.8, 0.6, 0.8)
		near(t, fmt.Sprintf("all equal, T=%v", T), lossOf(t, build(T), q, q, neg), math.Log(5), 1e-12)
		// Positive opposite to the query, negatives orthogonal: logits [−1/T, 0, …].
		got = lossOf(t, build(T), eye(1, 4, 0), mat(1, 4, -1, 0, 0, 0), eye(3, 4, 1))
		near(t, fmt.Sprintf("opposite, T=%v", T), got, math.Log(1+3*math.Exp(1/T)), 1e-12)
	}
}

func TestInfoNCEMatchesSlowLoop(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for _, c := range []struct{ n, K, d int }{{1, 1, 2}, {4, 16, 8}, {7, 33, 5}} {
		for _, T := range []float64{0.07, 0.2, 0.5} {
			q, k, neg := unitRows(r, c.n, c.d), unitRows(r, c.n, c.d), unitRows(r, c.K, c.d)
			got := lossOf(t, infoNCE(nil, nil, nil, T), q, k, neg)
			near(t, fmt.Sprintf("%+v T=%v", c, T), got, slowInfoNCE(q, k, neg, T), 1e-12)
		}
	}
}

func TestInfoNCEGradient(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	gradcheck.Check(t, infoNCE(nil, nil, nil, 0.2), unitRows(r, 3, 4), unitRows(r, 3, 4), unitRows(r, 6, 4))
}

func denseNCE(T float64) gradcheck.Build {
	return func(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) {
		labels, err := G.Reshape(x[2], tensor.Shape{x[2].Shape().TotalSize()})
		if err != nil {
			return nil, err
		}
		return DenseInfoNCE(x[0], x[1], labels, T)
	}
}

// A hand-built match table: query cell 0 matches key row 2, cell 1 is outside the other
// view, cell 2 matches key row 0. With orthonormal vectors the two matched rows each have
// one logit 1/T and three 0s (cell 0's match is e_2 = its own direction, cell 2's is e_0).
func TestDenseInfoNCEHandTable(t *testing.T) {
	T := 0.2
	q := mat(3, 4, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 0)
	keys := eye(4, 4, 0)
	labels := mat(1, 3, 2, -1, 0)
	got := lossOf(t, denseNCE(T), q, keys, labels)
	near(t, "hand table", got, math.Log(1+3*math.Exp(-1/T)), 1e-12)

	// A wrong match (cell 0 → row 1) puts the positive on a 0 logit while row 2 holds 1/T.
	wrong := lossOf(t, denseNCE(T), q, keys, mat(1, 3, 1, -1, 0))
	want := (math.Log(math.Exp(1/T)+3) + math.Log(1+3*math.Exp(-1/T))) / 2
	near(t, "wrong match", wrong, want, 1e-12)

	// No cell matched: nothing to learn, loss 0.
	near(t, "no match", lossOf(t, denseNCE(T), q, keys, mat(1, 3, -1, -1, -1)), 0, 0)
}

func TestDenseInfoNCEMatchesSlowLoop(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	m, rows, d, T := 6, 9, 5, 0.2
	q, keys := unitRows(r, m, d), unitRows(r, rows, d)
	lab := []float64{3, -1, 0, 8, -1, 3}
	var total float64
	var count int
	for i, l := range lab {
		if l < 0 {
			continue
		}
		var logits []float64
		for j := 0; j < rows; j++ {
			logits = append(logits, dot(row(q, i), row(keys, j))/T)
		}
		total += logSumExp(logits) - logits[int(l)]
		count++
	}
	near(t, "random", lossOf(t, denseNCE(T), q, keys, mat(1, m, lab...)), total/float64(count), 1e-12)
	gradcheck.CheckOpts(t, gradcheck.Options{WRT: []int{0, 1}}, denseNCE(T), q, keys, mat(1, m, lab...))
}

func ntxent(T float64) gradcheck.Build {
	return func(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) { return NTXent(x[0], x[1], T) }
}

// slowNTXent follows the paper's Algorithm 1 on raw embeddings (normalised here).
func slowNTXent(a, b *tensor.Dense, T float64) float64 {
	n, d := a.Shape()[0], a.Shape()[1]
	z := make([][]float64, 2*n)
	for i := 0; i < n; i++ {
		z[i], z[n+i] = append([]float64(nil), row(a, i)...), append([]float64(nil), row(b, i)...)
	}
	for _, v := range z {
		s := math.Sqrt(dot(v, v))
		for j := 0; j < d; j++ {
			v[j] /= s
		}
	}
	l := func(i, j int) float64 {
		var logits []float64
		for k := 0; k < 2*n; k++ {
			if k != i {
				logits = append(logits, dot(z[i], z[k])/T)
			}
		}
		return logSumExp(logits) - dot(z[i], z[j])/T
	}
	var total float64
	for k := 0; k < n; k++ {
		total += l(k, k+n) + l(k+n, k)
	}
	return total / float64(2*n)
}

func TestNTXentClosedForms(t *testing.T) {
	for _, n := range []int{1, 2, 5} {
		for _, T := range []float64{0.1, 0.5, 1} {
			// Correlated embeddings (lightly's test): every z equal, so the positive is one
			// of 2n−1 equal logits: −log(1/(2n−1)). Not normalised on input: the loss does it.
			same := make([]float64, 3*n)
			for i := 0; i < n; i++ {
				same[3*i], same[3*i+1], same[3*i+2] = 2, -1, 0.5
			}
			got := lossOf(t, ntxent(T), mat(n, 3, same...), mat(n, 3, same...))
			near(t, fmt.Sprintf("n=%d T=%v correlated", n, T), got, -math.Log(1/float64(2*n-1)), 1e-12)
			// a_i = b_i = e_i: positive logit 1/T, 2n−2 orthogonal negatives.
			got = lossOf(t, ntxent(T), eye(n, n+1, 0), eye(n, n+1, 0))
			near(t, fmt.Sprintf("n=%d T=%v orthogonal", n, T), got, math.Log(1+float64(2*n-2)*math.Exp(-1/T)), 1e-12)
		}
	}
}

func TestNTXentMatchesSlowLoopAndIsSymmetric(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	for _, n := range []int{1, 3, 8} {
		for _, T := range []float64{0.1, 0.2, 0.5} {
			a, b := gradcheck.Rand(r.Int63(), []int{n, 6}), gradcheck.Rand(r.Int63(), []int{n, 6})
			got := lossOf(t, ntxent(T), a, b)
			near(t, fmt.Sprintf("n=%d T=%v", n, T), got, slowNTXent(a, b, T), 1e-12)
			near(t, fmt.Sprintf("n=%d T=%v swapped", n, T), lossOf(t, ntxent(T), b, a), got, 1e-12)
		}
	}
}

func TestNTXentGradient(t *testing.T) {
	gradcheck.Check(t, ntxent(0.5), gradcheck.Rand(5, []int{3, 4}), gradcheck.Rand(6, []int{3, 4}))
}

func byol(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) { return BYOLLoss(x[0], x[1], x[2], x[3]) }
func simsiam(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) {
	return SimSiamLoss(x[0], x[1], x[2], x[3])
}

// Known cosines: the first pair at angle θ, the second at angle φ, with unnormalised lengths.
func TestCosineLossesKnownAngles(t *testing.T) {
	for _, c := range []struct{ theta, phi float64 }{{0, 0}, {math.Pi / 2, 0}, {math.Pi, math.Pi}, {0.3, 2.1}} {
		p1 := mat(1, 2, 3, 0)
		t2 := mat(1, 2, 0.5*math.Cos(c.theta), 0.5*math.Sin(c.theta))
		p2 := mat(1, 2, 0, 2)
		t1 := mat(1, 2, -7*math.Sin(c.phi), 7*math.Cos(c.phi))
		want := (2 - 2*math.Cos(c.theta)) + (2 - 2*math.Cos(c.phi))
		near(t, fmt.Sprintf("BYOL θ=%v φ=%v", c.theta, c.phi), lossOf(t, byol, p1, t2, p2, t1), want, 1e-12)
		// SimSiamLoss(p1, z1, p2, z2): p1 against z2, p2 against z1.
		want = -0.5*math.Cos(c.theta) - 0.5*math.Cos(c.phi)
		near(t, fmt.Sprintf("SimSiam θ=%v φ=%v", c.theta, c.phi), lossOf(t, simsiam, p1, t1, p2, t2), want, 1e-12)
	}
	// Means over the batch: two rows at cosines 1 and 0 in each direction.
	p := mat(2, 2, 1, 0, 1, 0)
	z := mat(2, 2, 1, 0, 0, 1)
	near(t, "BYOL batch mean", lossOf(t, byol, p, z, p, z), 2*(0+2)/2.0, 1e-12)
	near(t, "SimSiam batch mean", lossOf(t, simsiam, p, z, p, z), -0.5, 1e-12)
}

func TestCosineLossGradients(t *testing.T) {
	in := func(s int64) *tensor.Dense { return gradcheck.Rand(s, []int{3, 5}) }
	gradcheck.Check(t, byol, in(7), in(8), in(9), in(10))
	// SimSiam: the predictions get the gradient; the projections are behind stop-gradient.
	gradcheck.CheckOpts(t, gradcheck.Options{WRT: []int{0, 2}}, simsiam, in(11), in(12), in(13), in(14))
}

// Through SimSiamLoss alone the projections z1, z2 reach the loss only via sg(·), so
// Gorgonia finds no gradient path to them.
func TestSimSiamStopsGradientToProjections(t *testing.T) {
	g := G.NewGraph()
	var x G.Nodes
	for i := 0; i < 4; i++ {
		x = append(x, G.NodeFromAny(g, gradcheck.Rand(int64(20+i), []int{2, 3}), G.WithName(fmt.Sprintf("x%d", i))))
	}
	loss, err := SimSiamLoss(x[0], x[1], x[2], x[3])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, x[1]); err == nil {
		t.Error("gradient with respect to z1 exists; want none (stop-gradient)")
	}
}

func TestRotationLoss(t *testing.T) {
	rot := func(_ *G.ExprGraph, x G.Nodes) (*G.Node, error) {
		labels, err := G.Reshape(x[1], tensor.Shape{1, 2, 2})
		if err != nil {
			return nil, err
		}
		return RotationLoss(x[0], labels)
	}
	logits := tensor.New(tensor.WithShape(1, 4, 2, 2), tensor.WithBacking(make([]float64, 16)))
	near(t, "uniform logits", lossOf(t, rot, logits, mat(1, 4, 0, 1, 2, 3)), math.Log(4), 1e-12)
	// Pixel 0 scores turn 2 at +5 and the others 0; pixel 1 is unlabelled.
	lv := logits.Data().([]float64)
	lv[2*4+0] = 5
	got := lossOf(t, rot, logits, mat(1, 4, 2, 255, 0, 3))
	near(t, "one confident pixel", got, (math.Log(math.Exp(5)+3)-5+2*math.Log(4))/3, 1e-12)
	gradcheck.CheckOpts(t, gradcheck.Options{WRT: []int{0}}, rot, gradcheck.Rand(30, []int{1, 4, 2, 2}), mat(1, 4, 3, 255, 1, 0))
}

func TestLossErrors(t *testing.T) {
	g := G.NewGraph()
	a := G.NewMatrix(g, G.Float64, G.WithShape(2, 3), G.WithName("a"))
	b := G.NewMatrix(g, G.Float64, G.WithShape(2, 4), G.WithName("b"))
	c := G.NewMatrix(g, G.Float64, G.WithShape(3, 3), G.WithName("c"))
	v := G.NewVector(g, G.Float64, G.WithShape(3), G.WithName("v"))
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"InfoNCE D", second(InfoNCE(a, b, a, 0.2)), "want one dtype and one D"},
		{"InfoNCE rows", second(InfoNCE(a, c, a, 0.2)), "want equal shapes"},
		{"InfoNCE T", second(InfoNCE(a, a, a, 0)), "temperature 0"},
		{"InfoNCE rank", second(InfoNCE(v, v, v, 0.2)), "want [rows, D]"},
		{"NTXent rows", second(NTXent(a, c, 0.1)), "want equal shapes"},
		{"NTXent T", second(NTXent(a, a, math.Inf(1))), "temperature +Inf"},
		{"Dense labels", second(DenseInfoNCE(a, a, v, 0.2)), "labels must be [2]"},
		{"BYOL", second(BYOLLoss(a, b, a, a)), "want one dtype and one D"},
		{"SimSiam", second(SimSiamLoss(a, a, c, c)), "want equal shapes"},
		{"Rotation", second(RotationLoss(a, v)), "want [N, 4, H, W]"},
	} {
		if tc.err == nil || !contains(tc.err.Error(), "pretext: ") || !contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.name, tc.err, tc.want)
		}
	}
}

func second(_ *G.Node, err error) error { return err }
