package ops

import (
	"runtime"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// The memory plan changes where values live, never a bit: three runs (parameters stepped in
// between) give the same loss and gradients with and without it, and the arena is smaller
// than a buffer per value. A plan whose lifetimes end early must be seen.
func TestMemoryPlanSameBits(t *testing.T) {
	for _, net := range bufNets {
		params := make([][]float32, len(net.shape))
		for i, s := range net.shape {
			params[i] = aTo32(aRand(tensor.Float64, int64(30+i), s...)).Data().([]float32)
		}
		want := bufNetRun(t, net, params, 3, 0)
		got, mp := bufNetRunPlanned(t, net, params, 3, 0, &PlanOptions{})
		for i := range want {
			if !slices.Equal(got[i], want[i]) {
				t.Errorf("%s: output %d differs under the memory plan", net.name, i)
			}
		}
		t.Logf("%s: %v", net.name, mp)
		if mp.Values == 0 || mp.Bytes >= mp.Separate || mp.Live > mp.Bytes {
			t.Errorf("%s: %v: nothing shared", net.name, mp)
		}
		broken, _ := bufNetRunPlanned(t, net, params, 3, 0, &PlanOptions{ShortenBy: 1})
		same := true
		for i := range want {
			same = same && slices.Equal(broken[i], want[i])
		}
		if same {
			t.Errorf("%s: lifetimes shortened by one instruction gave the same bits: the check has no teeth", net.name)
		}
	}
}

// After a planned run the values not kept are reported transient; the kept ones (the loss, a
// named node) are not, and Release forgets them.
func TestMemoryPlanTransient(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, tensor.Float32, 2, G.WithShape(4, 8), G.WithName("x"), G.WithInit(G.RangedFrom(0)))
	w := G.NewTensor(g, tensor.Float32, 2, G.WithShape(8, 8), G.WithName("w"), G.WithInit(G.RangedFrom(1)))
	h := mustNode(MatMul(x, w))
	r := mustNode(Relu(h))
	s := mustNode(Softmax(r, -1))
	loss := mustNode(ReduceSum(s, nil, false))
	if _, err := G.Grad(loss, w); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	mp, err := PlanMemory(g, r)
	if err != nil {
		t.Fatal(err)
	}
	if !Transient(h) || Transient(r) || Transient(loss) || Transient(x) {
		t.Errorf("transient: h %v (want true), kept r %v, loss %v, input %v (want false)", Transient(h), Transient(r), Transient(loss), Transient(x))
	}
	if _, err := PlanMemory(g, G.NewScalar(G.NewGraph(), tensor.Float32)); err == nil {
		t.Error("a node of another graph to keep: no error")
	}
	mp.Release()
	if Transient(h) {
		t.Error("still transient after Release")
	}
}

// Planned, the networks give the same bits for any GOMAXPROCS (the plan depends on the graph
// alone), with the ops' splits forced on these small shapes.
func TestMemoryPlanSameBitsAnyGOMAXPROCS(t *testing.T) {
	defer forceSplits()()
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	for _, net := range bufNets {
		params := make([][]float32, len(net.shape))
		for i, s := range net.shape {
			params[i] = aTo32(aRand(tensor.Float64, int64(40+i), s...)).Data().([]float32)
		}
		runtime.GOMAXPROCS(1)
		want := bufNetRun(t, net, params, 2, 0)
		for _, n := range []int{1, 2, 5} {
			runtime.GOMAXPROCS(n)
			got, _ := bufNetRunPlanned(t, net, params, 2, 0, &PlanOptions{})
			for i := range got {
				if !slices.Equal(got[i], want[i]) {
					t.Errorf("%s: output %d planned at GOMAXPROCS %d differs from unplanned at 1", net.name, i, n)
				}
			}
		}
	}
}
