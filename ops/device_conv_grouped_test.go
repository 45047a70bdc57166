//go:build cgo

package ops_test

import (
	"math"
	"testing"

	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/ops/device"
)

// groupedConvStep: a grouped (not depthwise) Conv2D with bias, its square's mean as the loss;
// returns the loss and dL/d(x, w, b).
func groupedConvStep(t *testing.T, e *device.Engine, xs, ws []int, p ops.ConvParams) (float64, []float32) {
	t.Helper()
	s := newStepGraph(t, 11, uint64(p.Groups))
	rnd, in, must := s.rnd, s.in, s.must
	x, w, b := in("x", rnd(xs...)), in("w", rnd(ws...)), in("b", rnd(ws[0]))
	y := must(ops.Conv2D(x, w, b, p))
	loss := must(ops.ReduceMean(must(ops.Mul(y, y)), []int{0, 1, 2, 3}, false))
	return s.run(e, loss, x, w, b)
}

// TestDeviceGroupedConvMatchesCPU: grouped convolutions (ResNeXt's and RegNet's 1 < groups <
// C, one GEMM per group over pointers into the shared im2col) on the emulated device give the
// CPU's loss and dx, dw, db to 1e-5 of their scale, on ragged shapes with stride, asymmetric
// padding and dilation.
func TestDeviceGroupedConvMatchesCPU(t *testing.T) {
	for _, c := range []struct {
		x, w []int
		p    ops.ConvParams
	}{
		{[]int{2, 6, 7, 5}, []int{9, 2, 3, 3}, ops.ConvParams{Groups: 3, Stride: [2]int{2, 1}, Pads: [4]int{1, 0, 2, 1}}},
		{[]int{3, 4, 6, 6}, []int{6, 2, 3, 2}, ops.ConvParams{Groups: 2, Dilation: [2]int{2, 1}, Pads: [4]int{2, 1, 2, 1}}},
		{[]int{1, 8, 5, 5}, []int{4, 2, 1, 1}, ops.ConvParams{Groups: 4}},
	} {
		wantL, want := groupedConvStep(t, nil, c.x, c.w, c.p)
		dev := device.NewEmulated()
		gotL, got := groupedConvStep(t, device.NewEngine(dev), c.x, c.w, c.p)
		if dev.Gemms < 3*c.p.Groups {
			t.Fatalf("groups %d: %d GEMMs, want one per group in each of forward, dx and dw", c.p.Groups, dev.Gemms)
		}
		if math.Abs(gotL-wantL) > 1e-5*max(1, math.Abs(wantL)) {
			t.Errorf("groups %d: loss %v on the device, %v on the CPU", c.p.Groups, gotL, wantL)
		}
		var diff, scale float64
		for i := range want {
			diff = max(diff, math.Abs(float64(got[i]-want[i])))
			scale = max(scale, math.Abs(float64(want[i])))
		}
		if diff > 1e-5*scale {
			t.Errorf("groups %d: gradients: max |device − CPU| = %.3g of scale %.3g", c.p.Groups, diff, scale)
		}
		t.Logf("groups %d: loss %v (CPU %v); gradients within %.3g of scale %.3g", c.p.Groups, gotL, wantL, diff, scale)
	}
}
