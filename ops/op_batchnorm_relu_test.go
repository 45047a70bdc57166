package ops

import (
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BatchNormRelu is Relu(BatchNorm) bit for bit: output, the three gradients and the running
// statistics, in both dtypes and both modes, with the work split as large inputs split it.
func TestBatchNormReluMatchesUnfused(t *testing.T) {
	defer forceSplits()()
	for _, dt := range []tensor.Dtype{tensor.Float32, tensor.Float64} {
		for _, training := range []bool{true, false} {
			shape := []int{3, 5, 7, 6}
			run := func(fused bool) [][]float64 {
				st := newBNState(dt, shape[1], training, 4)
				g := G.NewGraph()
				x := G.NodeFromAny(g, aRand(dt, 1, shape...), G.WithName("x"))
				scale := G.NodeFromAny(g, aRand(dt, 2, shape[1]), G.WithName("scale"))
				bias := G.NodeFromAny(g, aRand(dt, 3, shape[1]), G.WithName("bias"))
				var y *G.Node
				var err error
				if fused {
					y, err = BatchNormRelu(x, scale, bias, st)
				} else if y, err = BatchNorm(x, scale, bias, st); err == nil {
					y, err = Relu(y)
				}
				if err != nil {
					t.Fatal(err)
				}
				r := G.NodeFromAny(g, aRand(dt, 9, shape...), G.WithName("r"))
				if _, err := G.Backpropagate(G.Nodes{y}, G.Nodes{r}, G.Nodes{x, scale, bias}); err != nil {
					t.Fatal(err)
				}
				vm := G.NewTapeMachine(g)
				defer vm.Close()
				if err := vm.RunAll(); err != nil {
					t.Fatal(err)
				}
				out := [][]float64{aF64(y.Value().(*tensor.Dense)), aF64(st.Mean), aF64(st.Var)}
				for _, n := range []*G.Node{x, scale, bias} {
					gv, err := n.Grad()
					if err != nil {
						t.Fatal(err)
					}
					out = append(out, aF64(gv.(*tensor.Dense)))
				}
				return out
			}
			want, got := run(false), run(true)
			for i, name := range []string{"y", "running mean", "running var", "dx", "dscale", "dbias"} {
				if !slices.Equal(got[i], want[i]) {
					t.Errorf("%v training=%t: %s differs from Relu(BatchNorm)", dt, training, name)
				}
			}
		}
	}
}
