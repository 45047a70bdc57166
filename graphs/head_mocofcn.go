package graphs

// mocoFCN is the FCN head of the MoCo paper's segmentation transfer ("FCN-16s": two 3x3
// convs of 256 channels with dilation 6, each with BN and ReLU, then a 1x1 conv to the
// classes), written as mmseg's FCNHead(channels=256, num_convs=2, dilation=6,
// concat_input=False, dropout_ratio=0), as CVMI-Lab/SlotCon's
// fcn_d6_r50-d16_513x513_30k_voc12aug_moco.py configures it.
//
// Momentum Contrast for Unsupervised Visual Representation Learning, https://arxiv.org/abs/1911.05722 (appendix A.7).
func mocoFCN(b *Builder, h headIn) (Tensor, int) {
	ch := h.c(256)
	x := convModule(b, "head.convs.0", h.enc.features, h.enc.cFeatures, ch, Conv{Kernel: 3, Pad: 6, Dilation: 6})
	x = convModule(b, "head.convs.1", x, ch, ch, Conv{Kernel: 3, Pad: 6, Dilation: 6})
	return clsSeg(b, "head.", x, ch, h), h.out
}
