package ops

import (
	"fmt"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

var matmulCases = []struct {
	a, b, out []int
}{
	{[]int{3, 4}, []int{4, 5}, []int{3, 5}},
	{[]int{4}, []int{4, 5}, []int{5}},
	{[]int{3, 4}, []int{4}, []int{3}},
	{[]int{2, 3, 4}, []int{4, 5}, []int{2, 3, 5}},          // folded into one GEMM
	{[]int{2, 3, 4}, []int{2, 4, 5}, []int{2, 3, 5}},       // batched
	{[]int{3, 4}, []int{2, 2, 4, 5}, []int{2, 2, 3, 5}},    // a broadcast: [s,H] × [N,C,H,W]
	{[]int{2, 1, 3, 4}, []int{3, 4, 2}, []int{2, 3, 3, 2}}, // both broadcast
	{[]int{2, 6, 3}, []int{2, 3, 6}, []int{2, 6, 6}},       // [N,HW,C] × [N,C,HW]
	{[]int{5}, []int{2, 5, 3}, []int{2, 3}},
	{[]int{2, 3, 4}, []int{4}, []int{2, 3}},
	{[]int{1, 3, 4}, []int{2, 4, 2}, []int{2, 3, 2}},
}

// directMatMul follows numpy's definition index by index.
func directMatMul(a, b *tensor.Dense, out []int) []float64 {
	as, bs := []int(a.Shape()), []int(b.Shape())
	av, bv := aF64(a), aF64(b)
	if len(as) == 1 {
		as = []int{1, as[0]}
	}
	if len(bs) == 1 {
		bs = []int{bs[0], 1}
	}
	m, k, n := as[len(as)-2], as[len(as)-1], bs[len(bs)-1]
	nd := max(len(as), len(bs)) - 2
	ba, bb := padOnes(as[:len(as)-2], nd), padOnes(bs[:len(bs)-2], nd)
	batch := make([]int, nd)
	total := 1
	for i := range batch {
		batch[i] = max(ba[i], bb[i])
		total *= batch[i]
	}
	res := make([]float64, 0, total*m*n)
	for t := 0; t < total; t++ {
		// Decompose t into batch indices, then into each operand's (broadcast) index.
		rem, ai, bi := t, 0, 0
		idx := make([]int, nd)
		for d := nd - 1; d >= 0; d-- {
			idx[d] = rem % batch[d]
			rem /= batch[d]
		}
		for d := 0; d < nd; d++ {
			ai = ai*ba[d] + idx[d]%ba[d]
			bi = bi*bb[d] + idx[d]%bb[d]
		}
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				s := 0.0
				for l := 0; l < k; l++ {
					s += av[ai*m*k+i*k+l] * bv[bi*k*n+l*n+j]
				}
				res = append(res, s)
			}
		}
	}
	return res
}

func matmulBuild(g *G.ExprGraph, in G.Nodes) (*G.Node, error) { return MatMul(in[0], in[1]) }

func TestMatMulMatchesDirect(t *testing.T) {
	for _, c := range matmulCases {
		for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
			t.Run(fmt.Sprintf("%v×%v/%v", c.a, c.b, dt), func(t *testing.T) {
				a, b := aRand(dt, 1, c.a...), aRand(dt, 2, c.b...)
				got := aEval(t, matmulBuild, a, b)
				if !got.Shape().Eq(tensor.Shape(c.out)) {
					t.Fatalf("shape %v, want %v", got.Shape(), c.out)
				}
				tol := 1e-12
				if dt == tensor.Float32 {
					tol = 1e-5
				}
				aClose(t, "product", aF64(got), directMatMul(a, b, c.out), tol)
			})
		}
	}
}

func TestMatMulGradients(t *testing.T) {
	for _, c := range matmulCases {
		t.Run(fmt.Sprintf("%v×%v", c.a, c.b), func(t *testing.T) {
			gradcheck.Check(t, matmulBuild, gradcheck.Rand(1, c.a), gradcheck.Rand(2, c.b))
		})
	}
}

func TestMatMulErrors(t *testing.T) {
	g := G.NewGraph()
	n := func(dt tensor.Dtype, shape ...int) *G.Node {
		return G.NewTensor(g, dt, len(shape), G.WithShape(shape...))
	}
	f := tensor.Float64
	cases := []struct {
		name  string
		a, b  *G.Node
		frags []string
	}{
		{"inner", n(f, 3, 4), n(f, 5, 2), []string{"a (3, 4) has 4 columns but b (5, 2) has 5 rows"}},
		{"batch", n(f, 2, 3, 4), n(f, 3, 4, 5), []string{"do not broadcast (2 vs 3)"}},
		{"vectors", n(f, 4), n(f, 4), []string{"two vectors"}},
		{"dtype", n(f, 3, 4), n(tensor.Float32, 4, 2), []string{"a is float64 but b is float32"}},
	}
	for _, c := range cases {
		_, err := MatMul(c.a, c.b)
		aWantErr(t, c.name, err, c.frags...)
	}
}
