//go:build cgo

package ops_test

import (
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/ops/device"
)

// stepGraph builds the small graphs the device tests run on the CPU and on the emulated
// device: seeded random inputs, node constructors that fail the test on error, and one
// forward + backward pass on either.
type stepGraph struct {
	t   *testing.T
	g   *G.ExprGraph
	rng *rand.Rand
}

func newStepGraph(t *testing.T, seed1, seed2 uint64) *stepGraph {
	return &stepGraph{t: t, g: G.NewGraph(), rng: rand.New(rand.NewPCG(seed1, seed2))}
}

// rnd is a tensor of standard normal values.
func (s *stepGraph) rnd(shape ...int) *tensor.Dense {
	v := make([]float32, tensor.Shape(shape).TotalSize())
	for i := range v {
		v[i] = float32(s.rng.NormFloat64())
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// in is an input node holding v.
func (s *stepGraph) in(name string, v *tensor.Dense) *G.Node {
	return G.NewTensor(s.g, tensor.Float32, v.Dims(), G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
}

// must unwraps a constructor's node.
func (s *stepGraph) must(x *G.Node, err error) *G.Node {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
	return x
}

// run takes the gradient of loss by wrt, runs the graph once — on e's device when e is not
// nil — and returns the loss (a host scalar) and the gradients, downloaded and concatenated.
func (s *stepGraph) run(e *device.Engine, loss *G.Node, wrt ...*G.Node) (float64, []float32) {
	t := s.t
	t.Helper()
	grads, err := G.Grad(loss, wrt...)
	if err != nil {
		t.Fatal(err)
	}
	var opts []G.VMOpt
	if e != nil {
		if err := ops.ToDevice(s.g, e); err != nil {
			t.Fatal(err)
		}
		opts = append(opts, G.WithEngine(e))
	}
	vm := G.NewTapeMachine(s.g, opts...)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	var all []float32
	for _, gn := range grads {
		dw := gn.Value().(*tensor.Dense)
		if device.Of(dw) != nil {
			if dw, err = device.Download(dw); err != nil {
				t.Fatal(err)
			}
		}
		all = append(all, dw.Data().([]float32)...)
	}
	lv, ok := loss.Value().(*G.F32)
	if !ok {
		t.Fatalf("loss is a %T, want a host scalar", loss.Value())
	}
	return float64(float32(*lv)), all
}
