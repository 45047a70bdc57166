package graphs

import "strconv"

// deepLabV3Plus is mmseg's DepthwiseSeparableASPPHead (channels 512, c1 channels 48):
//
//   - ASPP on the features: image pooling (global pool, 1x1 ConvModule, upsample), a 1x1
//     ConvModule, and three depthwise-separable 3x3 ConvModules with dilations 6, 12, 18 at
//     output stride 16 (doubled at 8, halved at 32), concatenated and fused by a regular 3x3
//     ConvModule ("bottleneck");
//   - decoder: layer1's map projected to 48 channels by a 1x1 ConvModule ("c1_bottleneck"),
//     the ASPP output upsampled to its size and concatenated, two depthwise-separable 3x3
//     ConvModules ("sep_bottleneck"), then the classifier.
//
// Encoder-Decoder with Atrous Separable Convolution for Semantic Image Segmentation,
// https://arxiv.org/abs/1802.02611.
func deepLabV3Plus(b *Builder, h headIn) (Tensor, int) {
	ch, c1 := h.c(512), h.c(48)
	x, in := h.enc.features, h.enc.cFeatures

	pool := b.AdaptiveAvgPool2d("head.image_pool.0", x, 1)
	pool = convModule(b, "head.image_pool.1", pool, in, ch, Conv{Kernel: 1})
	outs := []Tensor{b.ResizeTo("head.image_pool.up", pool, x)}
	outs = append(outs, convModule(b, "head.aspp_modules.0", x, in, ch, Conv{Kernel: 1}))
	for i, rate := range []int{6, 12, 18} {
		d := rate * 16 / h.outputStride
		outs = append(outs, sepConvModule(b, "head.aspp_modules."+strconv.Itoa(i+1), x, in, ch, d))
	}
	y := b.Concat("head.aspp_cat", 1, outs...)
	y = convModule(b, "head.bottleneck", y, 5*ch, ch, Conv{Kernel: 3, Pad: 1})

	low := convModule(b, "head.c1_bottleneck", h.enc.lowLevel, h.enc.cLow, c1, Conv{Kernel: 1})
	y = b.Concat("head.c1_cat", 1, b.ResizeTo("head.aspp_up", y, low), low)
	y = sepConvModule(b, "head.sep_bottleneck.0", y, ch+c1, ch, 1)
	y = sepConvModule(b, "head.sep_bottleneck.1", y, ch, ch, 1)
	return clsSeg(b, "head.", y, ch, h), h.out
}
