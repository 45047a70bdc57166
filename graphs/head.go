package graphs

// Segmentation heads follow MMSegmentation's decode heads (mmseg/models/decode_heads, 1.x),
// with its module names under the "head." prefix: head.convs.0.conv.weight,
// head.convs.0.bn.running_var, head.conv_seg.weight, … (the team's REFERENCES.md §1.2–1.6).
// Dropout before cls_seg is left out: it is a training-time op that the trainer adds if it
// wants it, and mmseg's MoCo FCN setting has none.

// headIn is what every segmentation head reads.
type headIn struct {
	enc          encoderOut
	outputStride int
	width        float64 // scales the head's internal widths, as it scales the encoder's
	out          int     // channels of the final 1x1 conv: classes, or a decoder's width
	outName      string  // that conv's name: "conv_seg" (classes) or "conv_dec" (decoder)
}

// c scales one of the paper's head widths.
func (h headIn) c(n int) int { return scaled(n, h.width) }

// convModule is mmcv's ConvModule with BN and ReLU: conv (no bias) → BN → ReLU, with the
// initializers p.conv.weight and p.bn.*.
func convModule(b *Builder, p string, x Tensor, in, out int, c Conv) Tensor {
	x = b.Conv2d(p+".conv", x, in, out, c)
	return b.Relu(p+".relu", b.BatchNorm2d(p+".bn", x, out, 1))
}

// sepConvModule is mmcv's DepthwiseSeparableConvModule: a depthwise 3x3 ConvModule, then a
// pointwise 1x1 ConvModule, each with BN and ReLU.
func sepConvModule(b *Builder, p string, x Tensor, in, out, dilation int) Tensor {
	x = convModule(b, p+".depthwise_conv", x, in, in, Conv{Kernel: 3, Pad: dilation, Dilation: dilation, Groups: in})
	return convModule(b, p+".pointwise_conv", x, in, out, Conv{Kernel: 1})
}

// clsSeg is mmseg's cls_seg: a 1x1 conv with bias, weight N(0, 0.01²). As a decoder's
// feature output (conv_dec) it is a plain nn.Conv2d instead, as CP2 replaces the classifier:
// another layer reads those features, and two 0.01-scale layers in a row (decoder + PLR's
// rotation classifier) leave the encoder almost no gradient (measured: PLR stayed at log 4
// for 150 steps).
func clsSeg(b *Builder, p string, x Tensor, in int, h headIn) Tensor {
	init := InitClassifier
	if h.outName == "conv_dec" {
		init = InitTorch
	}
	return b.Conv2d(p+h.outName, x, in, h.out, Conv{Kernel: 1, Bias: true, Init: init})
}
