package optim

import (
	"fmt"
	"testing"
)

// BenchmarkStepResNet50 updates 25.6M parameters (ResNet-50's count, as 161 tensors) with
// momentum, weight decay and clipping: the optimizer's share of one training step.
func BenchmarkStepResNet50(b *testing.B) {
	var params []*Param
	for i := 0; i < 160; i++ {
		params = append(params, benchParam(fmt.Sprintf("layer%d.weight", i), []int{256, 625}))
	}
	params = append(params, benchParam("fc.bias", []int{1000}))
	opt, err := New(params, Config{Momentum: 0.9, WeightDecay: 1e-4, MaxGradNorm: 1e9}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(160*256*625+1000) * 4)
	for b.Loop() {
		if err := opt.Step(0.01); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStepResNet18 updates a ResNet-18 encoder with an FCN-style head (12.9M
// parameters in 65 tensors: convolution kernels with weight decay, BatchNorm scales and
// shifts and biases without) at momentum 0.9, as `ssl4dp train seg` does by default: the
// optimizer's share of one training step. "clip" turns gradient clipping on as well (with a
// norm limit that never scales, so every iteration does the same work).
func BenchmarkStepResNet18(b *testing.B) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"momentum", Config{Momentum: 0.9, WeightDecay: 1e-4}},
		{"clip", Config{Momentum: 0.9, WeightDecay: 1e-4, MaxGradNorm: 1e9}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			params := resnet18Params()
			opt, err := New(params, tc.cfg, nil)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, p := range params {
				n += len(p.Value)
			}
			b.SetBytes(int64(n) * 4)
			if err := opt.Step(0.01); err != nil { // the first step allocates the buffers
				b.Fatal(err)
			}
			for b.Loop() {
				if err := opt.Step(0.01); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// resnet18Params is ResNet-18's convolutions and BatchNorms (no fc) and a 3×3 head convolution
// of 384 channels with its BatchNorm and a 21-class 1×1 classifier.
func resnet18Params() []*Param {
	var params []*Param
	convBN := func(name string, out, in, k int) {
		params = append(params,
			benchParam(name+".conv.weight", []int{out, in, k, k}),
			benchParam(name+".bn.weight", []int{out}),
			benchParam(name+".bn.bias", []int{out}))
	}
	convBN("stem", 64, 3, 7)
	in := 64
	for l, out := range []int{64, 128, 256, 512} {
		for blk := 0; blk < 2; blk++ {
			name := fmt.Sprintf("layer%d.%d", l+1, blk)
			convBN(name+".1", out, in, 3)
			convBN(name+".2", out, out, 3)
			if in != out {
				convBN(name+".downsample", out, in, 1)
			}
			in = out
		}
	}
	convBN("head.conv", 384, 512, 3)
	params = append(params,
		benchParam("head.conv_seg.weight", []int{21, 384, 1, 1}),
		benchParam("head.conv_seg.bias", []int{21}))
	return params
}

func benchParam(name string, shape []int) *Param {
	n := 1
	for _, d := range shape {
		n *= d
	}
	p := &Param{Name: name, Shape: shape, Value: make([]float32, n), Grad: make([]float32, n)}
	for j := range p.Grad {
		p.Grad[j] = float32(j%7) * 1e-3
	}
	return p
}
