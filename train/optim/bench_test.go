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
