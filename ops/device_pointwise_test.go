//go:build cgo

package ops_test

import (
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/ops/device"
)

// pointwiseBlockStep is a transformer/MobileNetV3 block as the importer lowers them:
// LayerNorm decomposed (ReduceMean, Sub, Pow 2, ReduceMean, Add ε as a host scalar, Sqrt,
// Div, Mul scale, Add bias), a projection, GELU, then Erf, HardSwish, HardSigmoid and Pow 3
// terms summed into a scalar loss. Returns the loss and dL/d(x, scale, bias, w).
func pointwiseBlockStep(t *testing.T, e *device.Engine) (float64, []float32) {
	t.Helper()
	const n, l, c, p = 2, 5, 7, 6
	rng := rand.New(rand.NewPCG(8, 9))
	rnd := func(shape ...int) *tensor.Dense {
		s := make([]float32, tensor.Shape(shape).TotalSize())
		for i := range s {
			s[i] = float32(rng.NormFloat64())
		}
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(s))
	}
	g := G.NewGraph()
	in := func(name string, v *tensor.Dense) *G.Node {
		return G.NewTensor(g, tensor.Float32, v.Dims(), G.WithShape(v.Shape()...), G.WithName(name), G.WithValue(v))
	}
	x, scale, bias, w := in("x", rnd(n, l, c)), in("scale", rnd(c)), in("bias", rnd(c)), in("w", rnd(c, p))
	eps := G.NewScalar(g, tensor.Float32, G.WithName("eps"), G.WithValue(float32(1e-5)))
	must := func(x *G.Node, err error) *G.Node {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	pw := func(x *G.Node, k ops.PointwiseKind, a, b float64) *G.Node { return must(ops.Pointwise(x, k, a, b)) }
	mean := must(ops.ReduceMean(x, []int{2}, true))
	d := must(ops.Sub(x, mean))
	v := must(ops.Add(must(ops.ReduceMean(pw(d, ops.PowConst, 2, 0), []int{2}, true)), eps))
	y := must(ops.Add(must(ops.Mul(must(ops.Div(d, pw(v, ops.Sqrt, 0, 0))), scale)), bias))
	h := pw(must(ops.MatMul(must(G.Reshape(y, tensor.Shape{n * l, c})), w)), ops.Gelu, 0, 0)
	terms := must(ops.Add(pw(h, ops.Erf, 0, 0), pw(h, ops.HardSwish, 0, 0)))
	terms = must(ops.Add(terms, pw(h, ops.HardSigmoid, 0.2, 0.5)))
	terms = must(ops.Add(terms, pw(h, ops.PowConst, 3, 0)))
	loss := must(ops.ReduceMean(terms, []int{0, 1}, false))
	grads, err := G.Grad(loss, x, scale, bias, w)
	if err != nil {
		t.Fatal(err)
	}
	var opts []G.VMOpt
	if e != nil {
		if err := ops.ToDevice(g, e); err != nil {
			t.Fatal(err)
		}
		opts = append(opts, G.WithEngine(e))
	}
	vm := G.NewTapeMachine(g, opts...)
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

// TestDevicePointwiseBlockMatchesCPU: LayerNorm's lowering and the pointwise activations
// (every ops.Pointwise kind, forward and gradient) on the emulated device give the CPU's loss
// and gradients to 1e-5 of their scale (the reductions sum in other orders).
func TestDevicePointwiseBlockMatchesCPU(t *testing.T) {
	wantL, want := pointwiseBlockStep(t, nil)
	dev := device.NewEmulated()
	gotL, got := pointwiseBlockStep(t, device.NewEngine(dev))
	if dev.Launches == 0 {
		t.Fatal("no launches: the step did not run on the device")
	}
	if math.Abs(gotL-wantL) > 1e-5*max(1, math.Abs(wantL)) {
		t.Errorf("loss %v on the device, %v on the CPU", gotL, wantL)
	}
	var diff, scale float64
	for i := range want {
		diff = max(diff, math.Abs(float64(got[i]-want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	if diff > 1e-5*scale {
		t.Errorf("gradients: max |device − CPU| = %.3g of scale %.3g", diff, scale)
	}
	t.Logf("loss %v (CPU %v); gradients within %.3g of scale %.3g; %d launches, %d GEMMs", gotL, wantL, diff, scale, dev.Launches, dev.Gemms)
}
