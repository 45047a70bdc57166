package graphs

import (
	"math"

	"github.com/ssl4dp/ssl4dp/onnx"
)

// nonLocalHead is mmseg's NLHead: FCNHead(channels 512, num_convs 2, concat_input True) with
// an embedded-Gaussian NonLocal2d block (reduction 2, use_scale True) between its two 3x3
// ConvModules: convs.0 → nl_block → convs.1 → conv_cat on [features, output] → classifier.
//
// Non-local Neural Networks, https://arxiv.org/abs/1711.07971.
func nonLocalHead(b *Builder, h headIn) (Tensor, int) {
	ch := h.c(512)
	x, in := h.enc.features, h.enc.cFeatures
	y := convModule(b, "head.convs.0", x, in, ch, Conv{Kernel: 3, Pad: 1})
	y = nonLocal2d(b, "head.nl_block", y, ch, max(ch/2, 1))
	y = convModule(b, "head.convs.1", y, ch, ch, Conv{Kernel: 3, Pad: 1})
	y = convModule(b, "head.conv_cat", b.Concat("head.cat", 1, x, y), in+ch, ch, Conv{Kernel: 3, Pad: 1})
	return clsSeg(b, "head.", y, ch, h), h.out
}

// nonLocal2d is mmcv's NonLocal2d in embedded_gaussian mode with use_scale:
//
//	θ, φ, g = 1x1 convs (bias) to inter channels, viewed as [N, inter, HW]
//	W = softmax_j(θᵢ·φⱼ / √inter),  y = W·g,  out = x + BN(conv_out(y))
//
// g, θ, φ start N(0, 0.01²); conv_out's BN starts with γ = 0, so the block starts as the
// identity. The reshapes use 0 (copy) and −1 (infer) and the final one takes Shape(θ), so
// the block works for any H×W.
func nonLocal2d(b *Builder, p string, x Tensor, in, inter int) Tensor {
	proj := func(name string) Tensor {
		t := b.Conv2d(p+"."+name+".conv", x, in, inter, Conv{Kernel: 1, Bias: true, Init: InitClassifier})
		return b.Op("Reshape", p+"."+name+".flat", []Tensor{t, b.Ints(0, int64(inter), -1)}) // [N, inter, HW]
	}
	perm := onnx.IntsAttr("perm", 0, 2, 1)
	g := b.Op("Transpose", p+".g.T", []Tensor{proj("g")}, perm)             // [N, HW, inter]
	theta := b.Op("Transpose", p+".theta.T", []Tensor{proj("theta")}, perm) // [N, HW, inter]
	phi := proj("phi")                                                      // [N, inter, HW]
	pairwise := b.Op("MatMul", p+".pairwise", []Tensor{theta, phi})         // [N, HW, HW]
	scale := b.Const(p+".scale", nil, []float32{float32(math.Sqrt(float64(inter)))})
	pairwise = b.Op("Div", p+".scaled", []Tensor{pairwise, scale})
	weight := b.Op("Softmax", p+".softmax", []Tensor{pairwise}, onnx.IntAttr("axis", -1))
	y := b.Op("MatMul", p+".y", []Tensor{weight, g}) // [N, HW, inter]
	y = b.Op("Transpose", p+".y.T", []Tensor{y}, perm)
	y = b.Op("Reshape", p+".y.map", []Tensor{y, b.ShapeOf(Tensor{p + ".theta.conv"})}) // [N, inter, H, W]
	y = b.Conv2d(p+".conv_out.conv", y, inter, in, Conv{Kernel: 1})
	y = b.BatchNorm2d(p+".conv_out.bn", y, in, 0)
	return b.Add(p+".add", x, y)
}
