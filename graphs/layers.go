package graphs

import (
	"github.com/ssl4dp/ssl4dp/onnx"
)

// Init names a PyTorch initialisation scheme for a layer's weight and bias.
type Init int

const (
	// InitKaiming: weight KaimingNormalFanOut, bias 0 (torchvision ResNet convs, mmcv
	// ConvModule).
	InitKaiming Init = iota
	// InitTorch: weight and bias TorchDefault (a plain nn.Conv2d or nn.Linear).
	InitTorch
	// InitClassifier: weight N(0, 0.01²), bias 0 (mmseg's cls_seg, mmcv NonLocal2d's g/θ/φ).
	InitClassifier
)

func (in Init) fillers(weightShape []int) (w, bias Filler) {
	switch in {
	case InitTorch:
		f := TorchDefault(weightShape)
		return f, f
	case InitClassifier:
		return Normal(0.01), Constant(0)
	default:
		return KaimingNormalFanOut(weightShape), Constant(0)
	}
}

// Conv configures Conv2d; zero values mean PyTorch's defaults (stride 1, no padding,
// dilation 1, one group, no bias here, Kaiming init).
type Conv struct {
	Kernel   int
	Stride   int
	Pad      int
	Dilation int
	Groups   int
	Bias     bool
	Init     Init
}

// Conv2d is nn.Conv2d(in, out, Kernel, Stride, Pad, Dilation, Groups, Bias): initializers
// name.weight [out, in/Groups, k, k] and name.bias [out].
func (b *Builder) Conv2d(name string, x Tensor, in, out int, c Conv) Tensor {
	stride, dil, groups := or1(c.Stride), or1(c.Dilation), or1(c.Groups)
	if c.Kernel <= 0 || in <= 0 || out <= 0 || in%groups != 0 || out%groups != 0 {
		b.Failf("conv %q: kernel %d, channels %d→%d, groups %d: want positive sizes divisible by groups", name, c.Kernel, in, out, groups)
		return Tensor{}
	}
	shape := []int{out, in / groups, c.Kernel, c.Kernel}
	wf, bf := c.Init.fillers(shape)
	inputs := []Tensor{x, b.Param(name+".weight", shape, wf)}
	if c.Bias {
		inputs = append(inputs, b.Param(name+".bias", []int{out}, bf))
	}
	k, p := int64(c.Kernel), int64(c.Pad)
	return b.Op("Conv", name, inputs,
		onnx.IntsAttr("kernel_shape", k, k),
		onnx.IntsAttr("strides", int64(stride), int64(stride)),
		onnx.IntsAttr("pads", p, p, p, p),
		onnx.IntsAttr("dilations", int64(dil), int64(dil)),
		onnx.IntAttr("group", int64(groups)))
}

func or1(v int) int {
	if v == 0 {
		return 1
	}
	return v
}

// BatchNorm2d is nn.BatchNorm2d(c) (also used on [N,C] for BatchNorm1d): name.weight = gamma,
// name.bias = 0, name.running_mean = 0, name.running_var = 1; ε 1e-5 and ONNX momentum 0.9
// (= PyTorch's momentum 0.1).
func (b *Builder) BatchNorm2d(name string, x Tensor, c int, gamma float64) Tensor {
	return b.batchNorm(name, x, c,
		b.Param(name+".weight", []int{c}, Constant(gamma)),
		b.Param(name+".bias", []int{c}, Constant(0)))
}

// BatchNormNoAffine is nn.BatchNorm1d(c, affine=False): running statistics but no trainable
// γ, β (they are Constant nodes holding 1 and 0).
func (b *Builder) BatchNormNoAffine(name string, x Tensor, c int) Tensor {
	ones, zeros := make([]float32, c), make([]float32, c)
	for i := range ones {
		ones[i] = 1
	}
	return b.batchNorm(name, x, c, b.Const(name+".one", []int{c}, ones), b.Const(name+".zero", []int{c}, zeros))
}

func (b *Builder) batchNorm(name string, x Tensor, c int, gamma, beta Tensor) Tensor {
	if c <= 0 {
		b.Failf("batchnorm %q: %d channels", name, c)
		return Tensor{}
	}
	return b.Op("BatchNormalization", name, []Tensor{x, gamma, beta,
		b.Param(name+".running_mean", []int{c}, Constant(0)),
		b.Param(name+".running_var", []int{c}, Constant(1))},
		onnx.FloatAttr("epsilon", 1e-5), onnx.FloatAttr("momentum", 0.9))
}

// Relu is nn.ReLU.
func (b *Builder) Relu(name string, x Tensor) Tensor { return b.Op("Relu", name, []Tensor{x}) }

// Add is x + y.
func (b *Builder) Add(name string, x, y Tensor) Tensor { return b.Op("Add", name, []Tensor{x, y}) }

// MaxPool2d is nn.MaxPool2d(k, stride, pad).
func (b *Builder) MaxPool2d(name string, x Tensor, k, stride, pad int) Tensor {
	return b.Op("MaxPool", name, []Tensor{x},
		onnx.IntsAttr("kernel_shape", int64(k), int64(k)),
		onnx.IntsAttr("strides", int64(stride), int64(stride)),
		onnx.IntsAttr("pads", int64(pad), int64(pad), int64(pad), int64(pad)))
}

// GlobalPool is nn.AdaptiveAvgPool2d(1) then torch.flatten(x, 1): [N,C,H,W] → [N,C].
func (b *Builder) GlobalPool(name string, x Tensor) Tensor {
	p := b.Op("GlobalAveragePool", name, []Tensor{x})
	return b.Op("Flatten", name+".flatten", []Tensor{p}, onnx.IntAttr("axis", 1))
}

// Linear is nn.Linear(in, out, bias) on [N,in] with PyTorch's default initialisation:
// name.weight [out, in], name.bias [out].
func (b *Builder) Linear(name string, x Tensor, in, out int, bias bool) Tensor {
	if in <= 0 || out <= 0 {
		b.Failf("linear %q: features %d→%d", name, in, out)
		return Tensor{}
	}
	shape := []int{out, in}
	f := TorchDefault(shape)
	inputs := []Tensor{x, b.Param(name+".weight", shape, f)}
	if bias {
		inputs = append(inputs, b.Param(name+".bias", []int{out}, f))
	}
	return b.Op("Gemm", name, inputs, onnx.IntAttr("transB", 1))
}

// Concat joins tensors along axis.
func (b *Builder) Concat(name string, axis int, xs ...Tensor) Tensor {
	return b.Op("Concat", name, xs, onnx.IntAttr("axis", int64(axis)))
}

// ResizeTo resizes x [N,C,h,w] bilinearly to ref's spatial size (F.interpolate(x, size,
// mode="bilinear", align_corners=False) = ONNX Resize linear, half_pixel). The size is read
// from Shape(ref) when the graph runs, so any input size works.
func (b *Builder) ResizeTo(name string, x, ref Tensor) Tensor {
	nc := b.Op("Slice", name+".nc", []Tensor{b.ShapeOf(x), b.Ints(0), b.Ints(2)})
	hw := b.spatialSize(ref)
	sizes := b.Op("Concat", name+".sizes", []Tensor{nc, hw}, onnx.IntAttr("axis", 0))
	return b.Op("Resize", name, []Tensor{x, {}, {}, sizes},
		onnx.StringAttr("mode", "linear"),
		onnx.StringAttr("coordinate_transformation_mode", "half_pixel"))
}

// spatialSize is Shape(x)[2:4], shared per tensor.
func (b *Builder) spatialSize(x Tensor) Tensor {
	name := x.Name + ".hw"
	if b.names[name] {
		return Tensor{name}
	}
	return b.Op("Slice", name, []Tensor{b.ShapeOf(x), b.Ints(2), b.Ints(4)})
}
