package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BenchmarkSoftmaxCrossEntropy times one training step of the loss of a ResNet-18
// segmentation head (21 classes, batch 8, 128x128, float32) on a tape machine: the forward
// pass and the gradient with respect to the logits. One label in 16 is ignored, like the
// object borders of Pascal VOC.
func BenchmarkSoftmaxCrossEntropy(b *testing.B) {
	const n, c, h, w = 8, 21, 128, 128
	g := G.NewGraph()
	logits := aRand(tensor.Float32, 1, n, c, h, w)
	lx := logits.Data().([]float32)
	for i := range lx {
		lx[i] *= 4 // a spread like a trained head's
	}
	lab := make([]float32, n*h*w)
	for i := range lab {
		lab[i] = float32((i/37 + i%5) % c)
		if i%16 == 7 {
			lab[i] = 255
		}
	}
	xn := G.NodeFromAny(g, logits, G.WithName("logits"))
	yn := G.NodeFromAny(g, tensor.New(tensor.WithShape(n, h, w), tensor.WithBacking(lab)), G.WithName("labels"))
	loss, err := SoftmaxCrossEntropy(xn, yn, 255)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := G.Grad(loss, xn); err != nil {
		b.Fatal(err)
	}
	benchMachine(b, g, false)
}
