//go:build cgo

package ops_test

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/ops/device"
)

// segStep is one train seg forward+backward of graphs' ResNet-18 (width 1/16) + FCN head on
// a 2×3×32×32 batch, run twice on the CPU (dev nil) or on a device: the second run's loss,
// every parameter's gradient and every BatchNorm's running statistics, as host values.
type segStep struct {
	loss  float64
	grads map[string][]float32
	stats map[string][]float32
}

func runSegStep(t *testing.T, e *device.Engine) segStep {
	t.Helper()
	const n, size, classes = 2, 32, 3
	mp, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, Width: 0.0625, OutputStride: 16, Head: graphs.HeadFCN,
		Classes: classes, Seed: 1, Outputs: []string{graphs.Logits}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := importer.Import(mp, importer.Options{InputShapes: map[string][]int{graphs.Input: {n, 3, size, size}},
		Phase: &ops.Phase{Training: true}, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	img := make([]float32, n*3*size*size)
	for i := range img {
		img[i] = float32(rng.NormFloat64())
	}
	lab := make([]float32, n*size*size)
	for i := range lab {
		lab[i] = float32(rng.IntN(classes))
		if rng.IntN(10) == 0 {
			lab[i] = 255 // ignored
		}
	}
	in, err := m.Input(graphs.Input)
	if err != nil {
		t.Fatal(err)
	}
	if err := G.Let(in, tensor.New(tensor.WithShape(n, 3, size, size), tensor.WithBacking(img))); err != nil {
		t.Fatal(err)
	}
	labels := G.NewTensor(m.Graph, tensor.Float32, 3, G.WithShape(n, size, size), G.WithName("labels"),
		G.WithValue(tensor.New(tensor.WithShape(n, size, size), tensor.WithBacking(lab))))
	logits, err := m.Output(graphs.Logits)
	if err != nil {
		t.Fatal(err)
	}
	loss, err := ops.SoftmaxCrossEntropy(logits, labels, 255)
	if err != nil {
		t.Fatal(err)
	}
	params := m.Params()
	var nodes G.Nodes
	for _, p := range params {
		nodes = append(nodes, p.Node)
	}
	grads, err := G.Grad(loss, nodes...)
	if err != nil {
		t.Fatal(err)
	}
	var opts []G.VMOpt
	if e != nil {
		var states []*ops.BNState
		for _, bn := range m.BatchNorms() {
			states = append(states, bn.State)
		}
		if err := ops.ToDevice(m.Graph, e, states...); err != nil {
			t.Fatal(err)
		}
		opts = append(opts, G.WithEngine(e))
	}
	vm := G.NewTapeMachine(m.Graph, opts...)
	defer vm.Close()
	// Two runs: the second reuses every kept output buffer (on the device, device tensors)
	// and updates the running statistics a second time.
	for i := range 2 {
		if i > 0 {
			vm.Reset()
		}
		if err := vm.RunAll(); err != nil {
			t.Fatal(err)
		}
	}
	host := func(v G.Value) []float32 {
		d := v.(*tensor.Dense)
		if device.Of(d) != nil {
			if d, err = device.Download(d); err != nil {
				t.Fatal(err)
			}
		}
		return append([]float32(nil), d.Data().([]float32)[:d.Shape().TotalSize()]...)
	}
	out := segStep{grads: map[string][]float32{}, stats: map[string][]float32{}}
	switch l := loss.Value().(type) {
	case *G.F32:
		out.loss = float64(float32(*l))
	default:
		out.loss = float64(host(l)[0])
	}
	for i, p := range params {
		out.grads[p.Name] = host(grads[i].Value())
	}
	for _, bn := range m.BatchNorms() {
		out.stats[bn.Mean] = host(bn.State.Mean)
		out.stats[bn.Var] = host(bn.State.Var)
	}
	return out
}

// TestDeviceSegStepMatchesCPU is the device layer's proof without a GPU: one train seg step
// on the emulated device — every op's kernels of ops/cuda/kernels run by the emulator over
// device memory, GEMMs on the host BLAS, Gorgonia's gradient accumulation through the
// device engine — gives the CPU's loss, parameter gradients and BatchNorm statistics.
//
// Tolerance: the loss to 1e-5 relative; each gradient to 1e-4 of its largest magnitude
// (max |dev − cpu| / max |cpu|): the two sides sum in different orders (OpenBLAS's blocked
// GEMM and the CPU's per-image or by-taps layouts against one batched GEMM; the kernels'
// double-precision block trees against the CPU's eight-accumulator sums), so elements near
// zero differ relatively more; a wrong kernel, argument or layout misses by orders more.
func TestDeviceSegStepMatchesCPU(t *testing.T) {
	cpu := runSegStep(t, nil)
	dev := device.NewEmulated()
	got := runSegStep(t, device.NewEngine(dev))
	if dev.Launches == 0 || dev.Gemms == 0 {
		t.Fatalf("the device ran %d launches and %d GEMMs: the step did not run on it", dev.Launches, dev.Gemms)
	}
	t.Logf("emulated device: %d launches, %d GEMMs; loss %v (CPU %v)", dev.Launches, dev.Gemms, got.loss, cpu.loss)
	if math.Abs(got.loss-cpu.loss) > 1e-5*math.Abs(cpu.loss) {
		t.Errorf("loss %v on the device, %v on the CPU", got.loss, cpu.loss)
	}
	worst, worstName := 0.0, ""
	for _, set := range []map[string][]float32{cpu.grads, cpu.stats} {
		for name, want := range set {
			g, ok := got.grads[name]
			if !ok {
				g = got.stats[name]
			}
			if len(g) != len(want) {
				t.Fatalf("%s: %d values on the device, %d on the CPU", name, len(g), len(want))
			}
			var diff, scale float64
			for i := range want {
				diff = max(diff, math.Abs(float64(g[i])-float64(want[i])))
				scale = max(scale, math.Abs(float64(want[i])))
			}
			rel := diff / max(scale, 1e-30)
			if rel > worst {
				worst, worstName = rel, name
			}
			if rel > 1e-4 || math.IsNaN(rel) {
				t.Errorf("%s: max |device − CPU| = %.3g, %.3g of its largest value %.3g", name, diff, rel, scale)
			}
		}
	}
	t.Logf("%d gradients and %d running statistics compared; worst %s at %.3g of its scale", len(cpu.grads), len(cpu.stats), worstName, worst)
}
