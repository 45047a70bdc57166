package pretext

// DefaultLR is a method's SGD learning rate for a batch, linearly scaled from its paper's
// (Goyal et al.'s rule, which every paper here uses):
//
//	moco, edmoco, plmoco, pledmoco  0.03 · B/256   MoCo v2 (facebookresearch/moco main_moco.py);
//	densecl                                        DenseCL's too (densecl_imagenet_200ep.py)
//	simsiam                         0.05 · B/256   SimSiam (main_simsiam.py)
//	simclr, byol                    0.06 · B/128   lightly's SGD benchmarks for both; the papers'
//	                                               LARS rates (0.3·B/256, 0.2·B/256) are not for SGD;
//	pixpro                          0.06 · B/128   BYOL's here: PixPro's LARS rate 1.0·B/256 is not for SGD
//	cp2                             0.015 · B/256  CP2's README (wangf3014/CP2), its pre-training
//	                                               and quick-tune runs alike
//	plr                             0.01 · B/16    mmseg's VOC recipe: PLR trains an
//	                                               encoder-decoder with per-pixel cross-entropy
//	                                               as segmentation does
func DefaultLR(method string, batch int) float64 {
	b := float64(batch)
	switch method {
	case "simsiam":
		return 0.05 * b / 256
	case "simclr", "byol", "pixpro":
		return 0.06 * b / 128
	case "plr":
		return 0.01 * b / 16
	case "cp2":
		return 0.015 * b / 256
	}
	return 0.03 * b / 256
}

// DefaultWeightDecay is 1e-4 for every method: MoCo's, SimSiam's and MMSelfSup's rotation
// prediction's. SimCLR's 1e-6 and BYOL's 1.5e-6 go with LARS, which is not implemented.
const DefaultWeightDecay = 1e-4
