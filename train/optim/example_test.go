package optim_test

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/train/optim"
)

// Fine-tuning with the encoder at 1/100 of the head's learning rate.
func Example() {
	w := &optim.Param{Name: "layer1.0.conv1.weight", Shape: []int{1, 1}, Value: []float32{1}, Grad: []float32{1}}
	bn := &optim.Param{Name: "layer1.0.bn1.weight", Shape: []int{1}, Value: []float32{1}, Grad: []float32{1}}
	head := &optim.Param{Name: "head.conv_seg.weight", Shape: []int{1, 1}, Value: []float32{1}, Grad: []float32{1}}
	opt, err := optim.New([]*optim.Param{w, bn, head}, optim.Config{Momentum: 0.9, WeightDecay: 0.5},
		optim.HeadEncoderRules([]string{"head."}, 0.01))
	if err != nil {
		panic(err)
	}
	for _, g := range opt.Groups() {
		fmt.Println(g)
	}
	if err := opt.Step(0.1); err != nil {
		panic(err)
	}
	// d = 1 + 0.5·1 for the decayed weights, 1 for the BatchNorm scale.
	fmt.Println(w.Value[0], bn.Value[0], head.Value[0])
	// Output:
	// encoder: lr×0.01, 2 params (1 with weight decay)
	// head: lr×1, 1 params (1 with weight decay)
	// 0.9985 0.999 0.85
}
