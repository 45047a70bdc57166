package graphs

import "strconv"

// pspHead is mmseg's PSPHead (channels 512, pool_scales 1, 2, 3, 6): each scale is an
// adaptive average pool, a 1x1 ConvModule and a bilinear upsample back to the feature size;
// the feature map and the four branches are concatenated, fused by a 3x3 ConvModule
// ("bottleneck") and classified.
//
// Pyramid Scene Parsing Network, https://arxiv.org/abs/1612.01105.
func pspHead(b *Builder, h headIn) (Tensor, int) {
	ch := h.c(512)
	x := h.enc.features
	outs := []Tensor{x}
	for i, s := range []int{1, 2, 3, 6} {
		p := "head.psp_modules." + strconv.Itoa(i)
		y := b.AdaptiveAvgPool2d(p+".0", x, s)
		y = convModule(b, p+".1", y, h.enc.cFeatures, ch, Conv{Kernel: 1})
		outs = append(outs, b.ResizeTo(p+".up", y, x))
	}
	y := b.Concat("head.psp_cat", 1, outs...)
	y = convModule(b, "head.bottleneck", y, h.enc.cFeatures+4*ch, ch, Conv{Kernel: 3, Pad: 1})
	return clsSeg(b, "head.", y, ch, h), h.out
}
