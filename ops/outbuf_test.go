package ops

import (
	"fmt"
	"runtime"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A small training network touching every op that keeps its output between runs (outBuf):
// its loss and parameter gradients, read after each run.
type bufNet struct {
	name  string
	build func(g *G.ExprGraph, p G.Nodes, phase *Phase) (*G.Node, error)
	feed  func(step int64) // sets the data that is not a parameter (labels) for a step
	shape [][]int          // parameter shapes; p[0] is the input image
}

func mustNode(n *G.Node, err error) *G.Node {
	if err != nil {
		panic(err)
	}
	return n
}

// bufLabels is the label data of the first network, rewritten by its feed before each run.
var bufLabels = make([]float32, 2*12*12)

var bufNets = []bufNet{
	{"conv-bn-relu-pool-add-resize-xent", func(g *G.ExprGraph, p G.Nodes, phase *Phase) (loss *G.Node, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		pad1 := ConvParams{Pads: [4]int{1, 1, 1, 1}}
		h := mustNode(Conv2D(p[0], p[1], p[2], pad1))
		st := newBNState(tensor.Float32, 8, true, 3)
		st.Phase = phase
		h = mustNode(BatchNorm(h, p[3], p[4], st))
		h = mustNode(Relu(h))
		pooled := mustNode(MaxPool2D(h, PoolParams{Kernel: [2]int{2, 2}, Stride: [2]int{2, 2}}))
		h = mustNode(Conv2D(pooled, p[5], nil, ConvParams{Pads: [4]int{2, 2, 2, 2}, Dilation: [2]int{2, 2}}))
		h = mustNode(Add(h, pooled))
		h = mustNode(Relu(h))
		logits := mustNode(Conv2D(h, p[6], nil, ConvParams{}))
		logits = mustNode(Resize2D(logits, 12, 12, Linear, HalfPixel, RoundPreferFloor))
		lab := G.NewTensor(g, tensor.Float32, 3, G.WithShape(2, 12, 12), G.WithName("labels"),
			G.WithValue(tensor.New(tensor.WithShape(2, 12, 12), tensor.WithBacking(bufLabels))))
		return SoftmaxCrossEntropy(logits, lab, 255)
	}, func(step int64) {
		// Other classes and other ignored positions every step, as batches change.
		for i := range bufLabels {
			k := i + int(step)*5
			bufLabels[i] = float32(k % 4)
			if k%7 == 0 {
				bufLabels[i] = 255
			}
		}
	}, [][]int{{2, 3, 12, 12}, {8, 3, 3, 3}, {8}, {8}, {8}, {8, 8, 3, 3}, {4, 8, 1, 1}}},

	{"pad-avgpool-transpose-slice-l2norm-softmax-concat-matmul-dropout-reduce", func(g *G.ExprGraph, p G.Nodes, phase *Phase) (loss *G.Node, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		h := mustNode(Pad(p[0], []int{0, 0, 1, 1, 0, 0, 1, 1}, PadReflect, 0))
		h = mustNode(AvgPool2D(h, PoolParams{Kernel: [2]int{3, 3}, Stride: [2]int{1, 1}}))
		h = mustNode(Mul(h, p[1]))                                // [2,4,6,6] ⊙ [4,1,1]
		h = mustNode(Transpose(h, []int{0, 2, 3, 1}))             // [2,6,6,4]
		h = mustNode(Slice(h, []int{1}, []int{5}, []int{1}, nil)) // [2,4,6,4]
		a := mustNode(L2Normalize(h, -1, 1e-12))
		b := mustNode(Softmax(h, -1))
		h = mustNode(Concat(-1, a, b)) // [2,4,6,8]
		h = mustNode(MatMul(h, p[2]))  // [2,4,6,3]
		h = mustNode(Dropout(h, 0.3, phase, 7))
		h = mustNode(Div(h, p[3]))                // ÷ [3]
		pooled := mustNode(GlobalAvgPool2D(p[0])) // [2,4,1,1]
		s := mustNode(ReduceMean(pooled, []int{1}, false))
		s = mustNode(ReduceSum(s, nil, false))
		h = mustNode(ReduceSum(h, nil, false))
		h = mustNode(Mul(h, h))
		return Sub(h, s)
	}, func(int64) {}, [][]int{{2, 4, 6, 6}, {4, 1, 1}, {8, 3}, {3}}},
}

// bufNetRun builds net over copies of the given parameter values, runs it runs times with
// Phase.Step = step, step+1, … (an SGD step on every parameter between runs), and returns
// the loss and the gradients of the last run.
func bufNetRun(t *testing.T, net bufNet, params [][]float32, runs int, step int64) [][]float32 {
	t.Helper()
	out, _ := bufNetRunPlanned(t, net, params, runs, step, nil)
	return out
}

// bufNetRunPlanned is bufNetRun under a memory plan with these options (nil: none).
func bufNetRunPlanned(t *testing.T, net bufNet, params [][]float32, runs int, step int64, plan *PlanOptions) ([][]float32, *MemoryPlan) {
	t.Helper()
	g := G.NewGraph()
	phase := &Phase{Training: true}
	var p G.Nodes
	for i, v := range params {
		p = append(p, G.NewTensor(g, tensor.Float32, len(net.shape[i]), G.WithShape(net.shape[i]...), G.WithName(fmt.Sprintf("p%d", i)),
			G.WithValue(tensor.New(tensor.WithShape(net.shape[i]...), tensor.WithBacking(slices.Clone(v))))))
	}
	loss, err := net.build(g, p, phase)
	if err != nil {
		t.Fatalf("%s: building: %v", net.name, err)
	}
	if _, err := G.Grad(loss, p...); err != nil {
		t.Fatalf("%s: gradients: %v", net.name, err)
	}
	vm := G.NewTapeMachine(g)
	defer vm.Close()
	var mp *MemoryPlan
	if plan != nil {
		if mp, err = PlanMemoryWith(g, *plan); err != nil {
			t.Fatalf("%s: memory plan: %v", net.name, err)
		}
		defer mp.Release()
	}
	var out [][]float32
	for r := 0; r < runs; r++ {
		if r > 0 {
			for i, n := range p { // the optimizer's step, in place as train/optim does it
				v := n.Value().Data().([]float32)
				for j, d := range out[i+1] {
					v[j] -= 0.1 * d
				}
			}
		}
		phase.Step = step + int64(r)
		net.feed(phase.Step)
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			t.Fatalf("%s: run %d: %v", net.name, r, err)
		}
		out = [][]float32{{loss.Value().Data().(float32)}}
		for _, n := range p {
			gv, err := n.Grad()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, slices.Clone(gv.Data().([]float32)))
		}
	}
	return out, mp
}

// Ops keep their outputs between runs and overwrite them. The second run of a machine must
// give exactly what a fresh graph gives for the same inputs: a kernel that left an element
// of the last run behind, or two nodes sharing one buffer, would show here. The parameters
// of the fresh graph are those the first graph's second run saw.
func TestOutputsKeptBetweenRunsMatchFreshGraph(t *testing.T) {
	for _, net := range bufNets {
		params := make([][]float32, len(net.shape))
		for i, s := range net.shape {
			params[i] = aTo32(aRand(tensor.Float64, int64(10+i), s...)).Data().([]float32)
		}
		first := bufNetRun(t, net, params, 1, 0)
		second := bufNetRun(t, net, params, 2, 0)
		stepped := make([][]float32, len(params))
		for i := range params {
			stepped[i] = slices.Clone(params[i])
			for j, d := range first[i+1] {
				stepped[i][j] -= 0.1 * d
			}
		}
		// At step 1, so that Dropout draws the mask the second run drew.
		fresh := bufNetRun(t, net, stepped, 1, 1)
		for i := range fresh {
			if !slices.Equal(second[i], fresh[i]) {
				t.Errorf("%s: output %d of the second run differs from a fresh graph's", net.name, i)
			}
		}
		if slices.Equal(first[0], second[0]) {
			t.Errorf("%s: loss did not change after a step (%v): the test is not exercising anything", net.name, first[0])
		}
	}
}

// The same network gives the same bits for any number of CPUs (every split forced).
func TestNetworksSameBitsAnyGOMAXPROCS(t *testing.T) {
	defer forceSplits()()
	procs := runtime.GOMAXPROCS(0)
	defer runtime.GOMAXPROCS(procs)
	for _, net := range bufNets {
		params := make([][]float32, len(net.shape))
		for i, s := range net.shape {
			params[i] = aTo32(aRand(tensor.Float64, int64(20+i), s...)).Data().([]float32)
		}
		var want [][]float32
		for _, n := range []int{1, 2, 5} {
			runtime.GOMAXPROCS(n)
			got := bufNetRun(t, net, params, 2, 0)
			if want == nil {
				want = got
				continue
			}
			for i := range got {
				if !slices.Equal(got[i], want[i]) {
					t.Errorf("%s: output %d differs between GOMAXPROCS 1 and %d", net.name, i, n)
				}
			}
		}
	}
}
