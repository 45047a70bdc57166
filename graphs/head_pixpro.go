package graphs

// pixproHeads are PixPro's per-pixel heads on a feature map x [N, in, h, w]
// (zdaxie/PixPro contrast/models/PixPro.py): the projector MLP2d — 1×1 conv (bias) to
// hidden → BatchNorm → ReLU → 1×1 conv (bias) to dim — as DenseProjection, and the pixel
// propagation module's value transform g, a 1×1 conv (bias) dim → dim on the projection, as
// PPMValue (the similarity-weighted sum and the normalisations are the loss's, in
// train/pretext). Zero sizes take PixPro's: hidden 4096 × width, dim 256. Names:
// dense_projector.0 (conv), .1 (BN), .3 (conv); ppm.value. Convs get nn.Conv2d's default
// initialisation. It returns the two maps and dim.
func pixproHeads(b *Builder, x Tensor, in, hidden, dim int, width float64) (proj, value Tensor, d int) {
	if hidden == 0 {
		hidden = scaled(4096, width)
	}
	if dim == 0 {
		dim = 256
	}
	y := b.Conv2d("dense_projector.0", x, in, hidden, Conv{Kernel: 1, Bias: true, Init: InitTorch})
	y = b.BatchNorm2d("dense_projector.1", y, hidden, 1)
	y = b.Relu("dense_projector.2", y)
	y = b.Conv2d("dense_projector.3", y, hidden, dim, Conv{Kernel: 1, Bias: true, Init: InitTorch})
	proj = b.Rename(y, DenseProjection)
	value = b.Rename(b.Conv2d("ppm.value", proj, dim, dim, Conv{Kernel: 1, Bias: true, Init: InitTorch}), PPMValue)
	return proj, value, dim
}
