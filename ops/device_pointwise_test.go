//go:build cgo

package ops_test

import (
	"math"
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
	s := newStepGraph(t, 8, 9)
	g, rnd, in, must := s.g, s.rnd, s.in, s.must
	x, scale, bias, w := in("x", rnd(n, l, c)), in("scale", rnd(c)), in("bias", rnd(c)), in("w", rnd(c, p))
	eps := G.NewScalar(g, tensor.Float32, G.WithName("eps"), G.WithValue(float32(1e-5)))
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
	return s.run(e, loss, x, scale, bias, w)
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
