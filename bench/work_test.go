package bench

import (
	"testing"

	"github.com/ssl4dp/ssl4dp/graphs"
)

// convMACs counts one convolution's multiply-adds per image (torchvision's convention:
// output elements × input channels × kernel area; the bias is not counted) and returns the
// output side, for a square input of side h.
func convMACs(cin, cout, k, stride, pad, dilation, h int) (int64, int) {
	out := (h+2*pad-dilation*(k-1)-1)/stride + 1
	return int64(cout) * int64(cin) * int64(k*k) * int64(out*out), out
}

// resnet18FCNOS16MACs counts, by hand from the architecture, the multiply-adds of ResNet-18
// at output stride 16 with MoCo's FCN head for one square image of side h: stem, four
// stages of two BasicBlocks (layer4 at stride 1, its second block dilated), the head's two
// 3×3 convs (dilation 6) and its 1×1 classifier. Pooling, BatchNorm, the resize and the
// additions do no multiply-adds in graphs.Measure's count.
func resnet18FCNOS16MACs(h, classes int) int64 {
	var total int64
	add := func(cin, cout, k, stride, pad, dilation int) {
		m, out := convMACs(cin, cout, k, stride, pad, dilation, h)
		total += m
		h = out
	}
	add(3, 64, 7, 2, 3, 1) // conv1
	h = (h+2-3)/2 + 1      // maxpool 3/2/1
	block := func(cin, cout, stride, dilation int) {
		side := h
		if stride != 1 || cin != cout {
			m, _ := convMACs(cin, cout, 1, stride, 0, 1, side) // downsample.0
			total += m
		}
		add(cin, cout, 3, stride, dilation, dilation) // conv1
		add(cout, cout, 3, 1, 1, 1)                   // conv2
	}
	block(64, 64, 1, 1)
	block(64, 64, 1, 1)
	block(64, 128, 2, 1)
	block(128, 128, 1, 1)
	block(128, 256, 2, 1)
	block(256, 256, 1, 1)
	block(256, 512, 1, 1) // layer4.0: stride 1 at OS16, dilation 1 (contracted)
	block(512, 512, 1, 2) // layer4.1: conv1 dilated by 2
	add(512, 256, 3, 1, 6, 6)
	add(256, 256, 3, 1, 6, 6)
	add(256, classes, 1, 1, 0, 1)
	return total
}

// The benchmark's configuration: the step's work is 3 × 2 × the forward multiply-adds that
// graphs.Measure counts, and those agree with a count made by hand from the architecture.
func TestSegWorkKnownConfig(t *testing.T) {
	const batch, size, classes = 8, 128, 21
	spec := graphs.Spec{Encoder: graphs.ResNet18, OutputStride: 16, Head: graphs.HeadFCN, Classes: classes}
	c, err := TrainConfig{Spec: spec, Batch: batch, Size: size}.normalized()
	if err != nil {
		t.Fatal(err)
	}
	_, work, err := newSegStep(c)
	if err != nil {
		t.Fatal(err)
	}
	want := batch * resnet18FCNOS16MACs(size, classes)
	m, err := graphs.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := graphs.Measure(m, batch, size, size)
	if err != nil {
		t.Fatal(err)
	}
	if cost.MACs != want || work.TrainedMACs != want || work.ForwardOnlyMACs != 0 {
		t.Fatalf("multiply-adds: graphs.Measure %d, step %+v; by hand %d", cost.MACs, work, want)
	}
	if got, wantFLOPs := work.FLOPs(), 6*float64(want); got != wantFLOPs {
		t.Errorf("FLOPs %v, want 6 × %d = %v", got, want, wantFLOPs)
	}
	t.Logf("resnet18 OS16 + fcn, %d×3×%d×%d: %.3f G multiply-adds forward, %.2f GFLOP per training step", batch, size, size, float64(want)/1e9, work.FLOPs()/1e9)
}

func TestWorkFLOPs(t *testing.T) {
	w := Work{TrainedMACs: 10, ForwardOnlyMACs: 4}
	if got := w.FLOPs(); got != 2*(3*10+4) {
		t.Errorf("FLOPs %v, want 68", got)
	}
}
