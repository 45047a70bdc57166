package graphs

import (
	"fmt"
	"math"
	"strconv"
)

// ResNet encoders, written after torchvision/models/resnet.py (v0.14) so that initializer
// names are its state_dict keys: conv1.weight, bn1.running_mean, layer1.0.conv1.weight,
// layer2.0.downsample.0.weight, layer2.0.downsample.1.bias, …
//
// Deep Residual Learning for Image Recognition, https://arxiv.org/abs/1512.03385. As in
// torchvision, the Bottleneck puts its stride on the 3x3 conv ("ResNet V1.5"), not on the
// first 1x1 as the paper does.

// Encoder names a ResNet depth.
type Encoder string

// The encoders.
const (
	ResNet18 Encoder = "resnet18"
	ResNet34 Encoder = "resnet34"
	ResNet50 Encoder = "resnet50"
)

// Encoders lists the encoders in order of size.
var Encoders = []Encoder{ResNet18, ResNet34, ResNet50}

// resnetArch is one row of the paper's Table 1: the block and how many per stage.
type resnetArch struct {
	bottleneck bool
	layers     [4]int
}

var resnets = map[Encoder]resnetArch{
	ResNet18: {false, [4]int{2, 2, 2, 2}},
	ResNet34: {false, [4]int{3, 4, 6, 3}},
	ResNet50: {true, [4]int{3, 4, 6, 3}},
}

func conv3x3(b *Builder, name string, x Tensor, in, out, stride, dilation int) Tensor {
	return b.Conv2d(name, x, in, out, Conv{Kernel: 3, Stride: stride, Pad: dilation, Dilation: dilation})
}

func conv1x1(b *Builder, name string, x Tensor, in, out, stride int) Tensor {
	return b.Conv2d(name, x, in, out, Conv{Kernel: 1, Stride: stride})
}

// block is what basicBlock and bottleneck share: in channels, planes, stride and dilation of
// the block, and whether the identity needs a projection (downsample.0 conv, .1 BN).
type block struct {
	in, planes, stride, dilation int
	downsample                   bool
}

// basicBlock is torchvision's BasicBlock (expansion 1). torchvision refuses dilation > 1
// here; a dilated one follows MMSegmentation's BasicBlock, which dilates conv1 only (conv2
// keeps padding 1).
func basicBlock(b *Builder, p string, x Tensor, c block) (Tensor, int) {
	out := conv3x3(b, p+"conv1", x, c.in, c.planes, c.stride, c.dilation)
	out = b.Relu(p+"relu1", b.BatchNorm2d(p+"bn1", out, c.planes, 1))
	out = conv3x3(b, p+"conv2", out, c.planes, c.planes, 1, 1)
	out = b.BatchNorm2d(p+"bn2", out, c.planes, 1)
	return b.Relu(p+"relu2", b.Add(p+"add", out, identity(b, p, x, c, c.planes))), c.planes
}

// bottleneck is torchvision's Bottleneck (expansion 4), stride and dilation on the 3x3.
func bottleneck(b *Builder, p string, x Tensor, c block) (Tensor, int) {
	width := c.planes // planes · base_width/64 · groups, with torchvision's defaults
	out := conv1x1(b, p+"conv1", x, c.in, width, 1)
	out = b.Relu(p+"relu1", b.BatchNorm2d(p+"bn1", out, width, 1))
	out = conv3x3(b, p+"conv2", out, width, width, c.stride, c.dilation)
	out = b.Relu(p+"relu2", b.BatchNorm2d(p+"bn2", out, width, 1))
	out = conv1x1(b, p+"conv3", out, width, 4*c.planes, 1)
	out = b.BatchNorm2d(p+"bn3", out, 4*c.planes, 1)
	return b.Relu(p+"relu3", b.Add(p+"add", out, identity(b, p, x, c, 4*c.planes))), 4 * c.planes
}

func identity(b *Builder, p string, x Tensor, c block, out int) Tensor {
	if !c.downsample {
		return x
	}
	d := conv1x1(b, p+"downsample.0", x, c.in, out, c.stride)
	return b.BatchNorm2d(p+"downsample.1", d, out, 1)
}

// resLayer is torchvision's ResNet._make_layer without its mutable state: it takes the
// input channels and the dilation so far, and returns the output, its channels and the
// dilation for the next stage. With dilate, the stage's stride becomes dilation; its first
// block keeps the previous dilation (as torchvision and mmseg's contract_dilation do).
func resLayer(b *Builder, name string, x Tensor, bottle bool, in, planes, blocks, stride int, dilate bool, dilation int) (Tensor, int, int) {
	prev := dilation
	if dilate {
		dilation *= stride
		stride = 1
	}
	mk, expansion := basicBlock, 1
	if bottle {
		mk, expansion = bottleneck, 4
	}
	x, in = mk(b, name+".0.", x, block{in, planes, stride, prev, stride != 1 || in != planes*expansion})
	for i := 1; i < blocks; i++ {
		x, in = mk(b, name+"."+strconv.Itoa(i)+".", x, block{in, planes, 1, dilation, false})
	}
	return x, in, dilation
}

// encoderOut is what an encoder hands to heads: the last stage ("features") and layer1
// ("low_level", 1/4 scale), with their channel counts.
type encoderOut struct {
	features, lowLevel Tensor
	cFeatures, cLow    int
}

// resnet builds torchvision's ResNet up to layer4 (no avgpool, no fc). Output stride 16
// dilates layer4, 8 dilates layer3 and layer4 (replace_stride_with_dilation). width scales
// every stage width, the stem's included.
func resnet(b *Builder, x Tensor, arch resnetArch, outputStride int, width float64) encoderOut {
	c := func(n int) int { return scaled(n, width) }
	dilate := map[int][3]bool{32: {false, false, false}, 16: {false, false, true}, 8: {false, true, true}}[outputStride]

	inplanes := c(64)
	x = b.Conv2d("conv1", x, 3, inplanes, Conv{Kernel: 7, Stride: 2, Pad: 3})
	x = b.Relu("relu", b.BatchNorm2d("bn1", x, inplanes, 1))
	x = b.MaxPool2d("maxpool", x, 3, 2, 1)

	var out encoderOut
	ch, d := inplanes, 1
	x, ch, d = resLayer(b, "layer1", x, arch.bottleneck, ch, c(64), arch.layers[0], 1, false, d)
	out.lowLevel, out.cLow = x, ch
	x, ch, d = resLayer(b, "layer2", x, arch.bottleneck, ch, c(128), arch.layers[1], 2, dilate[0], d)
	x, ch, d = resLayer(b, "layer3", x, arch.bottleneck, ch, c(256), arch.layers[2], 2, dilate[1], d)
	x, ch, _ = resLayer(b, "layer4", x, arch.bottleneck, ch, c(512), arch.layers[3], 2, dilate[2], d)
	out.features, out.cFeatures = x, ch
	return out
}

// scaled is a width-multiplied channel count: round(n·width), at least 1.
func scaled(n int, width float64) int {
	return max(1, int(math.Round(float64(n)*width)))
}

// ParseEncoder turns a name such as "resnet50" into an Encoder.
func ParseEncoder(s string) (Encoder, error) {
	if _, ok := resnets[Encoder(s)]; ok {
		return Encoder(s), nil
	}
	return "", fmt.Errorf("graphs: unknown encoder %q; want one of %v", s, Encoders)
}
