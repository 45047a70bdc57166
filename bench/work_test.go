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
		if stride != 1 || cin != cout {
			m, _ := convMACs(cin, cout, 1, stride, 0, 1, h) // downsample.0
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

// stepWork builds the seg step of c (normalized) and counts its forward graph's work.
func stepWork(t *testing.T, c TrainConfig) Work {
	t.Helper()
	c, err := c.normalized()
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := newStep(c, &TrainReport{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Build(c.Batch); err != nil {
		t.Fatal(err)
	}
	w, err := graphWork(s.Graph(), s.Learnables())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func measure(t *testing.T, spec graphs.Spec, n, size int) int64 {
	t.Helper()
	m, err := graphs.Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := graphs.Measure(m, n, size, size)
	if err != nil {
		t.Fatal(err)
	}
	return cost.MACs
}

// The benchmark's configuration: the work counted on the training graph equals
// graphs.Measure's count for the same model, and both equal a count made by hand from the
// architecture; a step is 3 × 2 × that many flops.
func TestSegWorkKnownConfig(t *testing.T) {
	const batch, size, classes = 8, 128, 21
	spec := graphs.Spec{Encoder: graphs.ResNet18, OutputStride: 16, Head: graphs.HeadFCN, Classes: classes}
	want := batch * resnet18FCNOS16MACs(size, classes)
	if got := measure(t, spec, batch, size); got != want {
		t.Fatalf("graphs.Measure: %d multiply-adds, by hand %d", got, want)
	}
	w := stepWork(t, TrainConfig{Spec: spec, Batch: batch, Size: size})
	if w.TrainedMACs != want || w.ForwardOnlyMACs != 0 {
		t.Fatalf("training graph: %+v, want %d trained multiply-adds", w, want)
	}
	if got := w.FLOPs(); got != 6*float64(want) {
		t.Errorf("FLOPs %v, want 6 × %d", got, want)
	}
	t.Logf("resnet18 OS16 + fcn, %d×3×%d×%d: %.3f G multiply-adds forward, %.2f GFLOP per training step", batch, size, size, float64(want)/1e9, w.FLOPs()/1e9)
}

// Every head (PSP's pooled branches, DeepLabv3+'s separable ASPP and decoder, Non-Local's
// attention products) counts the same on the training graph as in graphs.Measure.
func TestGraphWorkMatchesMeasure(t *testing.T) {
	for _, c := range []struct {
		enc  graphs.Encoder
		head graphs.Head
		os   int
	}{{graphs.ResNet18, graphs.HeadPSP, 8}, {graphs.ResNet18, graphs.HeadDeepLabV3Plus, 16}, {graphs.ResNet18, graphs.HeadNonLocal, 16},
		{graphs.ResNet50, graphs.HeadFCN, 16}} {
		spec := graphs.Spec{Encoder: c.enc, OutputStride: c.os, Width: 0.125, Head: c.head, Classes: 5, Seed: 1}
		w := stepWork(t, TrainConfig{Spec: spec, Batch: 2, Size: 48})
		if want := measure(t, spec, 2, 48); w.TrainedMACs != want || w.ForwardOnlyMACs != 0 {
			t.Errorf("%s + %s OS%d: training graph %+v, graphs.Measure %d", c.enc, c.head, c.os, w, want)
		}
	}
}

func TestWorkFLOPs(t *testing.T) {
	w := Work{TrainedMACs: 10, ForwardOnlyMACs: 4}
	if got := w.FLOPs(); got != 2*(3*10+4) {
		t.Errorf("FLOPs %v, want 68", got)
	}
}
