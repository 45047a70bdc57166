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

// headStep is a contrastive head's step as the pretext methods build them: projections by
// MatMul, L2-normalised; a key branch behind StopGradient; a cosine term (SimSiam/BYOL:
// −mean Σ q⊙k over the feature axis) and MoCo's InfoNCE (the positive logit concatenated
// before q·queueᵀ, softmax cross-entropy). Returns the loss and dL/d(w1, queue, wc, wd, bd, img).
func headStep(t *testing.T, e *device.Engine) (float64, []float32) {
	t.Helper()
	const n, d, p, kq = 4, 6, 5, 7
	s := newStepGraph(t, 5, 6)
	rng, rnd, in, must := s.rng, s.rnd, s.in, s.must
	img, wc, wd, bd := in("img", rnd(n, 3, 5, 5)), in("wc", rnd(d, 3, 3, 3)), in("wd", rnd(d, 1, 3, 3)), in("bd", rnd(d))
	b, w1, w2, queue := in("b", rnd(n, d)), in("w1", rnd(d, p)), in("w2", rnd(d, p)), in("queue", rnd(kq, p))
	lab := make([]float32, n)
	for i := range lab {
		lab[i] = float32(rng.IntN(kq + 1))
	}
	labels := in("labels", tensor.New(tensor.WithShape(n), tensor.WithBacking(lab)))
	// The query branch's encoder: reflection padding, a convolution, a depthwise one
	// with bias, a slice, global average
	// pooling, Gorgonia's Reshape, dropout.
	padded := must(ops.Pad(img, []int{0, 0, 1, 1, 0, 0, 1, 1}, ops.PadReflect, 0))
	conv := must(ops.Conv2D(padded, wc, nil, ops.ConvParams{}))
	conv = must(ops.Conv2D(conv, wd, bd, ops.ConvParams{Pads: [4]int{1, 1, 1, 1}, Groups: d})) // depthwise
	feat := must(ops.GlobalAvgPool2D(must(ops.Slice(conv, []int{1}, []int{5}, []int{3}, nil))))
	a := must(ops.Dropout(must(G.Reshape(feat, tensor.Shape{n, d})), 0.25, &ops.Phase{Training: true, Step: 3}, 9))
	q := must(ops.L2Normalize(must(ops.MatMul(a, w1)), 1, 1e-12))
	k := must(ops.StopGradient(must(ops.L2Normalize(must(ops.MatMul(b, w2)), 1, 1e-12))))
	cos := must(ops.ReduceMean(must(ops.ReduceSum(must(ops.Mul(q, k)), []int{1}, false)), []int{0}, false))
	lpos := must(ops.ReduceSum(must(ops.Mul(q, k)), []int{1}, true))
	lneg := must(ops.MatMul(q, must(ops.Transpose(queue, []int{1, 0}))))
	nce := must(ops.SoftmaxCrossEntropy(must(ops.Concat(1, lpos, lneg)), labels, 255))
	// An entropy-like term through Softmax (DINO's centring and sharpening use it).
	soft := must(ops.ReduceMean(must(ops.Mul(must(ops.Softmax(lneg, 1)), lneg)), []int{0, 1}, false))
	loss := must(ops.Add(must(ops.Sub(nce, cos)), soft))
	return s.run(e, loss, w1, queue, wc, wd, bd, img)
}

// TestDeviceHeadStepMatchesCPU: the pretext heads' ops (Conv2D, depthwise Conv2D, its bias's
// channel sum, GlobalAvgPool2D, Gorgonia's
// Reshape, Pad and Slice with their scatter gradients, Dropout (the CPU's mask drawn on the
// device), MatMul and its gradients, Softmax,
// L2Normalize, StopGradient, Mul, ReduceSum over an axis, ReduceMean to a scalar, Transpose,
// Concat, InfoNCE's cross-entropy, scalar Sub on the host) on the emulated device give the CPU's loss and
// gradient, to 1e-5 relative (the same sums in other orders).
func TestDeviceHeadStepMatchesCPU(t *testing.T) {
	wantL, want := headStep(t, nil)
	dev := device.NewEmulated()
	gotL, got := headStep(t, device.NewEngine(dev))
	if dev.Launches == 0 || dev.Gemms == 0 {
		t.Fatalf("%d launches, %d GEMMs: the step did not run on the device", dev.Launches, dev.Gemms)
	}
	if math.Abs(gotL-wantL) > 1e-5*math.Abs(wantL) {
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
