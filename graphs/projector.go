package graphs

import "strconv"

// Pretext heads. Each MLP is a list of layers as in lightly's heads.py, built as an
// nn.Sequential would be, so its initializer names carry PyTorch's module indices:
// Linear → BN → ReLU → Linear is projector.0, projector.1, (ReLU 2), projector.3.

// mlpLayer is one Linear with what follows it.
type mlpLayer struct {
	out      int
	bias     bool
	bn       bool // BatchNorm1d after the Linear
	noAffine bool // that BatchNorm has no γ, β (SimSiam's last)
	relu     bool
}

// mlp builds the layers on x [N, in] under prefix p and returns [N, out] and out.
func mlp(b *Builder, p string, x Tensor, in int, layers []mlpLayer) (Tensor, int) {
	i := 0
	next := func() string { s := p + "." + strconv.Itoa(i); i++; return s }
	for _, l := range layers {
		x = b.Linear(next(), x, in, l.out, l.bias)
		in = l.out
		if l.bn {
			name := next()
			if l.noAffine {
				x = b.BatchNormNoAffine(name, x, in)
			} else {
				x = b.BatchNorm2d(name, x, in, 1)
			}
		}
		if l.relu {
			x = b.Relu(next(), x)
		}
	}
	return x, in
}

// Projector names a global (image-level) projection head.
type Projector string

// The projectors.
const (
	// ProjectorMoCoV2 is MoCo v2's MLP: Linear(C, C) → ReLU → Linear(C, 128), with biases
	// and no BN (facebookresearch/moco builder.py, --mlp). SimCLR v1's head has the same form.
	ProjectorMoCoV2 Projector = "mocov2"
	// ProjectorBYOL is BYOL's MLP for projector and predictor: Linear(·, 4096) → BN → ReLU →
	// Linear(4096, 256, no bias) (deepmind-research byol/utils/networks.py).
	ProjectorBYOL Projector = "byol"
	// ProjectorSimSiam is SimSiam's projector: [Linear(C, C, no bias) → BN → ReLU] ×2 →
	// Linear(C, 2048, no bias) → BN(affine=False); and predictor Linear(2048, 512, no bias)
	// → BN → ReLU → Linear(512, 2048) (facebookresearch/simsiam builder.py). The projector's
	// last Linear drops the bias that SimSiam freezes: before a BatchNorm it has no effect.
	ProjectorSimSiam Projector = "simsiam"
)

// projectorLayers returns a projector's layers and its predictor's (nil when it has none)
// for in input channels. Zero sizes in pt take the paper's values: hidden widths scaled by
// width (or equal to in, where the paper ties them to the encoder), output dims unscaled.
func projectorLayers(pt Pretext, in int, width float64) (proj, pred []mlpLayer) {
	or := func(v, def int) int {
		if v > 0 {
			return v
		}
		return def
	}
	switch pt.Projector {
	case ProjectorMoCoV2:
		hidden, dim := or(pt.Hidden, in), or(pt.Dim, 128)
		return []mlpLayer{{out: hidden, bias: true, relu: true}, {out: dim, bias: true}}, nil
	case ProjectorBYOL:
		hidden, dim, ph := or(pt.Hidden, scaled(4096, width)), or(pt.Dim, 256), or(pt.PredictorHidden, scaled(4096, width))
		return []mlpLayer{{out: hidden, bias: true, bn: true, relu: true}, {out: dim}},
			[]mlpLayer{{out: ph, bias: true, bn: true, relu: true}, {out: dim}}
	case ProjectorSimSiam:
		hidden, dim, ph := or(pt.Hidden, in), or(pt.Dim, 2048), or(pt.PredictorHidden, scaled(512, width))
		return []mlpLayer{
				{out: hidden, bn: true, relu: true},
				{out: hidden, bn: true, relu: true},
				{out: dim, bn: true, noAffine: true},
			}, []mlpLayer{
				{out: ph, bn: true, relu: true},
				{out: dim, bias: true},
			}
	}
	return nil, nil
}

// denseProjector is DenseCL's dense head: 1x1 conv (bias) → ReLU → 1x1 conv (bias), on a
// feature map, with nn.Conv2d's default initialisation (WXinlong/DenseCL necks.py,
// DenseCLNeck.mlp2). Names: dense_projector.0.*, dense_projector.2.*.
func denseProjector(b *Builder, x Tensor, in, hidden, dim int) Tensor {
	x = b.Conv2d("dense_projector.0", x, in, hidden, Conv{Kernel: 1, Bias: true, Init: InitTorch})
	x = b.Relu("dense_projector.1", x)
	return b.Conv2d("dense_projector.2", x, hidden, dim, Conv{Kernel: 1, Bias: true, Init: InitTorch})
}

// rotationHead is the per-pixel 4-way rotation classifier of patch-level rotation (PLR): a
// 1x1 conv with bias from the decoder's output to 4 classes (0°, 90°, 180°, 270°), weight
// N(0, 0.01²) as mmseg's cls_seg.
func rotationHead(b *Builder, x Tensor, in int) Tensor {
	return b.Conv2d("rotation.conv", x, in, 4, Conv{Kernel: 1, Bias: true, Init: InitClassifier})
}
