package importer

import (
	"sort"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

// Every lowering is checked twice on a tiny model that contains it: forward against
// onnxruntime (float32), and the gradient with respect to every graph input against
// central finite differences of the imported graph (float64, ops/gradcheck). Weights are
// graph inputs here so that their gradients are checked too.

type lowerCase struct {
	name  string
	opset int64
	build func(g *graph)
	feeds map[string]feed
	train bool // run BatchNorm with batch statistics (onnxruntime: the node lists its extra outputs)
}

func pos(seed int64, shape ...int) feed { // values in [0.5, 1.5): denominators, variances
	return feed{shape, randFloats(seed, numel(shape), 0.5, 1.5)}
}

func feeds(kv ...any) map[string]feed {
	m := map[string]feed{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(feed)
	}
	return m
}

func ia(name string, v ...int64) *pb.AttributeProto { return onnx.IntsAttr(name, v...) }
func i1(name string, v int64) *pb.AttributeProto    { return onnx.IntAttr(name, v) }
func s1(name, v string) *pb.AttributeProto          { return onnx.StringAttr(name, v) }

var lowerCases = []lowerCase{
	{name: "Conv bias group dilation stride asymmetric pads", build: func(g *graph) {
		g.node("Conv", []string{"x", "w", "b"}, []string{"y"}, i1("group", 2), ia("strides", 2, 1), ia("dilations", 1, 2), ia("pads", 1, 0, 2, 1), ia("kernel_shape", 3, 3))
	}, feeds: feeds("x", randFeed(1, 2, 4, 7, 6), "w", randFeed(2, 6, 2, 3, 3), "b", randFeed(3, 6))},
	{name: "Conv SAME_UPPER stride 2", build: func(g *graph) {
		g.node("Conv", []string{"x", "w"}, []string{"y"}, s1("auto_pad", "SAME_UPPER"), ia("strides", 2, 2))
	}, feeds: feeds("x", randFeed(4, 1, 2, 7, 6), "w", randFeed(5, 3, 2, 4, 3))},
	{name: "Conv SAME_LOWER", build: func(g *graph) {
		g.node("Conv", []string{"x", "w"}, []string{"y"}, s1("auto_pad", "SAME_LOWER"), ia("strides", 2, 2))
	}, feeds: feeds("x", randFeed(6, 1, 2, 6, 6), "w", randFeed(7, 3, 2, 2, 2))},
	{name: "Conv VALID", build: func(g *graph) {
		g.node("Conv", []string{"x", "w", "b"}, []string{"y"}, s1("auto_pad", "VALID"), ia("strides", 1, 2))
	}, feeds: feeds("x", randFeed(8, 2, 3, 5, 6), "w", randFeed(9, 2, 3, 3, 3), "b", randFeed(10, 2))},
	{name: "Conv dilation beyond a small input (MoCoFCN head on a 3×4 map)", build: func(g *graph) {
		g.node("Conv", []string{"x", "w"}, []string{"y"}, ia("dilations", 6, 6), ia("pads", 6, 6, 6, 6))
	}, feeds: feeds("x", randFeed(60, 1, 2, 3, 4), "w", randFeed(61, 2, 2, 3, 3))},
	{name: "Conv depthwise", build: func(g *graph) {
		g.node("Conv", []string{"x", "w", "b"}, []string{"y"}, i1("group", 4), ia("pads", 1, 1, 1, 1))
	}, feeds: feeds("x", randFeed(11, 2, 4, 5, 5), "w", randFeed(12, 4, 1, 3, 3), "b", randFeed(13, 4))},
	{name: "BatchNormalization training (opset 13 outputs)", train: true, build: func(g *graph) {
		g.floats("mean", 0.1, -0.2, 0.3).konst("var", []int{3}, 0.5, 1.5, 2)
		g.nodes = append(g.nodes, onnx.NewNode("BatchNormalization", "bn", []string{"x", "s", "b", "mean_i", "var_i"}, []string{"y", "rm", "rv", "sm", "sv"}, onnx.FloatAttr("epsilon", 1e-3)))
		g.init(onnx.FromFloats("mean_i", []int{3}, []float32{0.1, -0.2, 0.3})).init(onnx.FromFloats("var_i", []int{3}, []float32{0.5, 1.5, 2}))
	}, feeds: feeds("x", randFeed(14, 2, 3, 4, 5), "s", pos(15, 3), "b", randFeed(16, 3))},
	{name: "BatchNormalization eval", build: func(g *graph) {
		g.init(onnx.FromFloats("mean", []int{3}, []float32{0.1, -0.2, 0.3})).init(onnx.FromFloats("var", []int{3}, []float32{0.5, 1.5, 2}))
		g.node("BatchNormalization", []string{"x", "s", "b", "mean", "var"}, []string{"y"})
	}, feeds: feeds("x", randFeed(17, 2, 3, 4, 5), "s", pos(18, 3), "b", randFeed(19, 3))},
	{name: "BatchNormalization on [N,C] training (opset 15)", opset: 15, train: true, build: func(g *graph) {
		g.init(onnx.FromFloats("mean", []int{4}, []float32{0.1, -0.2, 0.3, 0})).init(onnx.FromFloats("var", []int{4}, []float32{0.5, 1.5, 2, 1}))
		g.node("BatchNormalization", []string{"x", "s", "b", "mean", "var"}, []string{"y", "rm", "rv"}, i1("training_mode", 1))
	}, feeds: feeds("x", randFeed(20, 5, 4), "s", pos(21, 4), "b", randFeed(22, 4))},
	{name: "Relu Sigmoid Identity Cast", build: func(g *graph) {
		g.node("Relu", []string{"x"}, []string{"r"})
		g.node("Identity", []string{"r"}, []string{"i"})
		g.node("Cast", []string{"i"}, []string{"c"}, i1("to", int64(pb.TensorProto_FLOAT)))
		g.node("Sigmoid", []string{"c"}, []string{"y"})
	}, feeds: feeds("x", randFeed(23, 2, 3, 4))},
	{name: "MaxPool ceil_mode dilation pads", build: func(g *graph) {
		g.node("MaxPool", []string{"x"}, []string{"y"}, ia("kernel_shape", 3, 2), ia("strides", 2, 2), ia("pads", 1, 0, 1, 1), ia("dilations", 1, 2), i1("ceil_mode", 1))
	}, feeds: feeds("x", randFeed(24, 2, 2, 8, 7))},
	{name: "AveragePool count_include_pad=0 ceil_mode", build: func(g *graph) {
		g.node("AveragePool", []string{"x"}, []string{"y"}, ia("kernel_shape", 3, 3), ia("strides", 2, 2), ia("pads", 1, 1, 1, 1), i1("ceil_mode", 1))
	}, feeds: feeds("x", randFeed(25, 2, 2, 6, 7))},
	{name: "AveragePool count_include_pad=1", build: func(g *graph) {
		g.node("AveragePool", []string{"x"}, []string{"y"}, ia("kernel_shape", 2, 3), ia("strides", 1, 2), ia("pads", 1, 1, 0, 1), i1("count_include_pad", 1))
	}, feeds: feeds("x", randFeed(26, 1, 3, 5, 6))},
	{name: "GlobalAveragePool", build: func(g *graph) {
		g.node("GlobalAveragePool", []string{"x"}, []string{"y"})
	}, feeds: feeds("x", randFeed(27, 2, 3, 4, 5))},
	{name: "Resize linear half_pixel sizes up", build: func(g *graph) {
		g.ints("sizes", 1, 2, 7, 9)
		g.node("Resize", []string{"x", "", "", "sizes"}, []string{"y"}, s1("mode", "linear"))
	}, feeds: feeds("x", randFeed(28, 1, 2, 3, 4))},
	{name: "Resize linear align_corners sizes", build: func(g *graph) {
		g.ints("sizes", 1, 2, 8, 3)
		g.node("Resize", []string{"x", "", "", "sizes"}, []string{"y"}, s1("mode", "linear"), s1("coordinate_transformation_mode", "align_corners"))
	}, feeds: feeds("x", randFeed(29, 1, 2, 3, 5))},
	{name: "Resize linear pytorch_half_pixel down to 1", build: func(g *graph) {
		g.ints("sizes", 2, 1, 1, 3)
		g.floats("roi").floats("scales")
		g.node("Resize", []string{"x", "roi", "scales", "sizes"}, []string{"y"}, s1("mode", "linear"), s1("coordinate_transformation_mode", "pytorch_half_pixel"))
	}, feeds: feeds("x", randFeed(30, 2, 1, 5, 7))},
	{name: "Resize nearest asymmetric floor scales (PyTorch nearest)", build: func(g *graph) {
		g.floats("scales", 1, 1, 2, 1.5)
		g.node("Resize", []string{"x", "", "scales"}, []string{"y"}, s1("mode", "nearest"), s1("coordinate_transformation_mode", "asymmetric"), s1("nearest_mode", "floor"))
	}, feeds: feeds("x", randFeed(31, 1, 2, 3, 4))},
	{name: "Resize nearest half_pixel round_prefer_ceil down", build: func(g *graph) {
		g.ints("sizes", 1, 2, 3, 2)
		g.node("Resize", []string{"x", "", "", "sizes"}, []string{"y"}, s1("nearest_mode", "round_prefer_ceil"))
	}, feeds: feeds("x", randFeed(32, 1, 2, 7, 5))},
	{name: "Resize opset 10 linear scales", opset: 10, build: func(g *graph) {
		g.floats("scales", 1, 1, 2, 3)
		g.node("Resize", []string{"x", "scales"}, []string{"y"}, s1("mode", "linear"))
	}, feeds: feeds("x", randFeed(33, 1, 2, 3, 4))},
	{name: "Resize opset 10 nearest scales", opset: 10, build: func(g *graph) {
		g.floats("scales", 1, 1, 2, 2.5)
		g.node("Resize", []string{"x", "scales"}, []string{"y"})
	}, feeds: feeds("x", randFeed(34, 1, 2, 3, 4))},
	{name: "Concat with a constant", build: func(g *graph) {
		g.konst("k", []int{1, 2, 3}, 1, 2, 3, 4, 5, 6)
		g.node("Concat", []string{"a", "k", "b"}, []string{"y"}, i1("axis", -2))
	}, feeds: feeds("a", randFeed(35, 1, 3, 3), "b", randFeed(36, 1, 1, 3))},
	{name: "Add Sub Mul Div broadcasting", build: func(g *graph) {
		g.konst("k", []int{3, 1, 1}, 0.5, -1, 2)
		g.node("Add", []string{"x", "k"}, []string{"a"})
		g.node("Mul", []string{"a", "r"}, []string{"m"})
		g.node("Sub", []string{"r", "m"}, []string{"s"})
		g.node("Div", []string{"s", "d"}, []string{"y"})
	}, feeds: feeds("x", randFeed(37, 2, 3, 4, 5), "r", randFeed(38, 1, 5), "d", pos(39, 4, 1))},
	{name: "Div by a scalar constant", build: func(g *graph) {
		g.konst("k", nil, 4)
		g.node("Div", []string{"x", "k"}, []string{"y"})
	}, feeds: feeds("x", randFeed(40, 2, 3))},
	{name: "MatMul batched broadcast", build: func(g *graph) {
		g.node("MatMul", []string{"a", "b"}, []string{"y"})
	}, feeds: feeds("a", randFeed(41, 2, 3, 4), "b", randFeed(42, 4, 5))},
	{name: "MatMul constant pooling matrix (PSP form)", build: func(g *graph) {
		adaptivePoolMatrix(g, "x", 2, 2, "P")
		g.node("MatMul", []string{"P", "x"}, []string{"y"})
	}, feeds: feeds("x", randFeed(43, 1, 2, 5, 3))},
	{name: "Gemm transA transB alpha beta", build: func(g *graph) {
		g.node("Gemm", []string{"a", "b", "c"}, []string{"y"}, i1("transA", 1), i1("transB", 1), onnx.FloatAttr("alpha", 0.5), onnx.FloatAttr("beta", 2))
	}, feeds: feeds("a", randFeed(44, 4, 3), "b", randFeed(45, 5, 4), "c", randFeed(46, 5))},
	{name: "Gemm fully connected", build: func(g *graph) {
		g.node("Gemm", []string{"a", "b", "c"}, []string{"y"}, i1("transB", 1))
	}, feeds: feeds("a", randFeed(47, 2, 6), "b", randFeed(48, 3, 6), "c", randFeed(49, 1, 3))},
	{name: "Flatten Reshape Transpose Squeeze Unsqueeze", build: func(g *graph) {
		g.ints("shape", 0, -1, 2).ints("ax", 0).ints("ax2", 1, 3)
		g.node("Flatten", []string{"x"}, []string{"f"}, i1("axis", 2))
		g.node("Reshape", []string{"f", "shape"}, []string{"r"})
		g.node("Transpose", []string{"r"}, []string{"t"}, ia("perm", 2, 0, 1))
		g.node("Unsqueeze", []string{"t", "ax2"}, []string{"u"})
		g.node("Squeeze", []string{"u", "ax2"}, []string{"y"})
	}, feeds: feeds("x", randFeed(50, 2, 3, 2, 5))},
	{name: "Softmax opset 11 coerces to 2-D", opset: 11, build: func(g *graph) {
		g.node("Softmax", []string{"x"}, []string{"y"}, i1("axis", 1))
	}, feeds: feeds("x", randFeed(51, 2, 3, 2, 2))},
	{name: "Softmax opset 13 axis 1 and LogSoftmax last axis", build: func(g *graph) {
		g.node("Softmax", []string{"x"}, []string{"s"}, i1("axis", 1))
		g.node("LogSoftmax", []string{"x"}, []string{"l"})
		g.node("Add", []string{"s", "l"}, []string{"y"})
	}, feeds: feeds("x", randFeed(52, 2, 3, 2, 2))},
	{name: "ReduceMean attribute axes, ReduceSum input axes", build: func(g *graph) {
		g.ints("ax", 1, -1)
		g.node("ReduceMean", []string{"x"}, []string{"m"}, ia("axes", 2, 3))
		g.node("ReduceSum", []string{"m", "ax"}, []string{"y"}, i1("keepdims", 0))
	}, feeds: feeds("x", randFeed(53, 2, 3, 4, 5))},
	{name: "ReduceMean axes input and noop_with_empty_axes (opset 18)", opset: 18, build: func(g *graph) {
		g.ints("ax", -1, 1)
		g.node("ReduceMean", []string{"x", "ax"}, []string{"m"}, i1("keepdims", 0))
		g.node("ReduceMean", []string{"m"}, []string{"y"}, i1("noop_with_empty_axes", 1))
	}, feeds: feeds("x", randFeed(62, 2, 3, 4, 5))},
	{name: "Pad axes input (opset 18)", opset: 18, build: func(g *graph) {
		g.ints("p", 1, -1, 2, 0).ints("ax", 3, 1).konst("v", nil, 0.5)
		g.node("Pad", []string{"x", "p", "v", "ax"}, []string{"y"})
	}, feeds: feeds("x", randFeed(63, 1, 3, 4, 5))},
	{name: "Pad reflect (opset 13 inputs) and negative", build: func(g *graph) {
		g.ints("p", 0, 0, 2, -1, 0, 0, 1, 3)
		g.node("Pad", []string{"x", "p"}, []string{"y"}, s1("mode", "reflect"))
	}, feeds: feeds("x", randFeed(54, 1, 2, 4, 5))},
	{name: "Pad edge and constant value", build: func(g *graph) {
		g.ints("p", 0, 1, 1, 0, 0, 0, 2, 1).konst("v", nil, 0.75)
		g.node("Pad", []string{"x", "p"}, []string{"e"}, s1("mode", "edge"))
		g.node("Pad", []string{"e", "p", "v"}, []string{"y"})
	}, feeds: feeds("x", randFeed(55, 1, 2, 3, 3))},
	{name: "Pad opset 10 attributes", opset: 10, build: func(g *graph) {
		g.node("Pad", []string{"x"}, []string{"y"}, ia("pads", 0, 0, 1, 2, 0, 0, 2, 0), onnx.FloatAttr("value", -1))
	}, feeds: feeds("x", randFeed(56, 1, 2, 3, 3))},
	{name: "Slice steps and negative steps", build: func(g *graph) {
		g.ints("s", 1, -1).ints("e", 100, -100).ints("a", 2, 3).ints("st", 2, -2)
		g.node("Slice", []string{"x", "s", "e", "a", "st"}, []string{"y"})
	}, feeds: feeds("x", randFeed(57, 1, 2, 6, 5))},
	{name: "Slice opset 9 attributes", opset: 9, build: func(g *graph) {
		g.node("Slice", []string{"x"}, []string{"y"}, ia("starts", 1, 0), ia("ends", -1, 2), ia("axes", 1, 2))
	}, feeds: feeds("x", randFeed(58, 2, 4, 3))},
	{name: "Dropout in evaluation", build: func(g *graph) {
		g.konst("ratio", nil, 0.3)
		g.node("Dropout", []string{"x", "ratio"}, []string{"y"})
	}, feeds: feeds("x", randFeed(59, 2, 3))},

	// The modern classification families (docs/import.md "Families").
	{name: "GELU as PyTorch exports it before opset 20 (Div, Erf, Add, Mul)", build: func(g *graph) {
		g.konst("r2", nil, 1.4142135).konst("one", nil, 1).konst("half", nil, 0.5)
		g.node("Div", []string{"x", "r2"}, []string{"d"})
		g.node("Erf", []string{"d"}, []string{"e"})
		g.node("Add", []string{"e", "one"}, []string{"a"})
		g.node("Mul", []string{"x", "a"}, []string{"m"})
		g.node("Mul", []string{"m", "half"}, []string{"y"})
	}, feeds: feeds("x", randFeed(64, 2, 3, 4))},
	{name: "Gelu (opset 20)", opset: 20, build: func(g *graph) {
		g.node("Gelu", []string{"x"}, []string{"y"})
	}, feeds: feeds("x", randFeed(65, 2, 3, 4))},
	{name: "HardSwish and HardSigmoid (MobileNetV3)", opset: 14, build: func(g *graph) {
		g.konst("k", nil, 4)
		g.node("Mul", []string{"x", "k"}, []string{"x4"}) // reach both flat sides (|x| > 3)
		g.node("HardSwish", []string{"x4"}, []string{"h"})
		g.node("HardSigmoid", []string{"h"}, []string{"y"}, onnx.FloatAttr("alpha", 1.0/6), onnx.FloatAttr("beta", 0.5))
	}, feeds: feeds("x", feed{[]int{2, 3, 5}, awayFrom(randFloats(66, 30, -1, 1), 0.75, -0.75)})},
	{name: "LayerNorm decomposed as opset 13 exports it (ReduceMean Sub Pow Sqrt Div)", build: func(g *graph) {
		g.konst("two", nil, 2).konst("eps", nil, 1e-6)
		g.node("ReduceMean", []string{"x"}, []string{"m"}, ia("axes", -1))
		g.node("Sub", []string{"x", "m"}, []string{"d"})
		g.node("Pow", []string{"d", "two"}, []string{"p"})
		g.node("ReduceMean", []string{"p"}, []string{"v"}, ia("axes", -1))
		g.node("Add", []string{"v", "eps"}, []string{"ve"})
		g.node("Sqrt", []string{"ve"}, []string{"s"})
		g.node("Div", []string{"d", "s"}, []string{"n"})
		g.node("Mul", []string{"n", "w"}, []string{"nw"})
		g.node("Add", []string{"nw", "b"}, []string{"y"})
	}, feeds: feeds("x", randFeed(67, 2, 3, 5), "w", pos(68, 5), "b", randFeed(69, 5))},
	{name: "LayerNormalization (opset 17) over the last two axes", opset: 17, build: func(g *graph) {
		g.node("LayerNormalization", []string{"x", "w", "b"}, []string{"y"}, i1("axis", -2), onnx.FloatAttr("epsilon", 1e-5))
	}, feeds: feeds("x", randFeed(70, 2, 3, 4), "w", pos(71, 3, 4), "b", randFeed(72, 3, 4))},
	{name: "Squeeze-excitation with SiLU (EfficientNet: GlobalAveragePool Conv Sigmoid Mul)", build: func(g *graph) {
		g.node("Sigmoid", []string{"x"}, []string{"sx"})
		g.node("Mul", []string{"x", "sx"}, []string{"silu"})
		g.node("GlobalAveragePool", []string{"silu"}, []string{"p"})
		g.node("Conv", []string{"p", "w", "b"}, []string{"c"})
		g.node("Sigmoid", []string{"c"}, []string{"s"})
		g.node("Mul", []string{"s", "silu"}, []string{"y"})
	}, feeds: feeds("x", randFeed(73, 2, 4, 3, 3), "w", randFeed(74, 4, 4, 1, 1), "b", randFeed(75, 4))},
	{name: "Grouped conv stride 2 and depthwise stride 2 (RegNet, MobileNet)", build: func(g *graph) {
		g.node("Conv", []string{"x", "w"}, []string{"c"}, i1("group", 2), ia("strides", 2, 2), ia("pads", 1, 1, 1, 1))
		g.node("Conv", []string{"c", "dw"}, []string{"y"}, i1("group", 4), ia("strides", 2, 2), ia("pads", 2, 2, 2, 2))
	}, feeds: feeds("x", randFeed(76, 2, 4, 7, 8), "w", randFeed(77, 4, 2, 3, 3), "dw", randFeed(78, 4, 1, 5, 5))},
	{name: "ViT class token: Expand to the batch, Concat, Add position embedding, Gather", opset: 17, build: func(g *graph) {
		g.ints("shape", 2, 1, 1).ints("zero", 0)
		g.scalar("first", 0)
		g.node("Expand", []string{"cls", "shape"}, []string{"ce"})
		g.node("Concat", []string{"ce", "x"}, []string{"t"}, i1("axis", 1))
		g.node("Add", []string{"t", "pos"}, []string{"tp"})
		g.node("Gather", []string{"tp", "first"}, []string{"c0"}, i1("axis", 1))
		g.node("Gather", []string{"tp", "zero"}, []string{"c1"}, i1("axis", 1))
		g.node("Unsqueeze", []string{"c0", "zero"}, []string{"c0u"})
		g.node("Mul", []string{"c0u", "c1"}, []string{"y"})
	}, feeds: feeds("x", randFeed(79, 2, 4, 3), "cls", randFeed(80, 1, 1, 3), "pos", randFeed(81, 1, 5, 3))},
	{name: "Split fused q/k/v (opset 13 sizes input)", build: func(g *graph) {
		g.ints("sizes", 2, 2, 4)
		g.node("Split", []string{"x", "sizes"}, []string{"q", "k", "v"}, i1("axis", -1))
		g.node("MatMul", []string{"q", "k"}, []string{"qk"})
		g.node("Concat", []string{"qk", "v"}, []string{"y"}, i1("axis", -1))
	}, feeds: feeds("x", randFeed(85, 2, 2, 8))},
	{name: "Split equal parts (opset 18 num_outputs, uneven last)", opset: 18, build: func(g *graph) {
		g.node("Split", []string{"x"}, []string{"a", "b", "c"}, i1("axis", 1), i1("num_outputs", 3))
		g.node("Concat", []string{"c", "a", "b"}, []string{"y"}, i1("axis", 1))
	}, feeds: feeds("x", randFeed(86, 2, 8, 3))},
	{name: "Attention: MatMul Transpose Softmax, Gather of two rows", opset: 17, build: func(g *graph) {
		g.ints("rows", 2, 0).konst("scale", nil, 0.5)
		g.node("Transpose", []string{"k"}, []string{"kt"}, ia("perm", 0, 2, 1))
		g.node("MatMul", []string{"q", "kt"}, []string{"a"})
		g.node("Mul", []string{"a", "scale"}, []string{"as"})
		g.node("Softmax", []string{"as"}, []string{"s"}, i1("axis", -1))
		g.node("MatMul", []string{"s", "v"}, []string{"o"})
		g.node("Gather", []string{"o", "rows"}, []string{"y"}, i1("axis", 1))
	}, feeds: feeds("q", randFeed(82, 2, 4, 3), "k", randFeed(83, 2, 4, 3), "v", randFeed(84, 2, 4, 3))},
}

func (lc lowerCase) model() *pb.ModelProto {
	op := lc.opset
	if op == 0 {
		op = 13
	}
	g := newGraph(op)
	for _, name := range sortedKeys(lc.feeds) {
		g.input(name, lc.feeds[name].shape...)
	}
	lc.build(g)
	g.output("y")
	return g.model()
}

func TestLoweringsForward(t *testing.T) {
	for _, lc := range lowerCases {
		t.Run(lc.name, func(t *testing.T) {
			compareORT(t, lc.model(), lc.feeds, Options{Phase: &ops.Phase{Training: lc.train}}, 1e-5)
		})
	}
}

func TestLoweringsGradient(t *testing.T) {
	for _, lc := range lowerCases {
		t.Run(lc.name, func(t *testing.T) {
			checkGradients(t, lc.model(), lc.feeds, lc.train)
		})
	}
}

// checkGradients differentiates the model's output "y" with respect to every graph input.
func checkGradients(t *testing.T, mp *pb.ModelProto, fs map[string]feed, train bool) {
	t.Helper()
	names := sortedKeys(fs)
	var inputs []*tensor.Dense
	for _, n := range names {
		f := fs[n]
		d := make([]float64, len(f.data))
		for i, v := range f.data {
			d[i] = float64(v)
		}
		inputs = append(inputs, tensor.New(tensor.WithShape(f.shape...), tensor.WithBacking(d)))
	}
	build := func(g *G.ExprGraph, xs G.Nodes) (*G.Node, error) {
		nodes := map[string]*G.Node{}
		for i, n := range names {
			nodes[n] = xs[i]
		}
		m, err := Import(mp, Options{Graph: g, Prefix: "m/", InputNodes: nodes, Dtype: tensor.Float64,
			Phase: &ops.Phase{Training: train}, NoDropout: train})
		if err != nil {
			return nil, err
		}
		return m.Output("y")
	}
	gradcheck.CheckOpts(t, gradcheck.Options{MaxPoints: 60, RelTol: 1e-5, AbsTol: 1e-7}, build, inputs...)
}

// The lowering table covers the op table: every op with a lowering has a case.
func TestEveryLoweringHasACase(t *testing.T) {
	covered := map[string]bool{}
	for _, lc := range lowerCases {
		for _, n := range lc.model().Graph.Node {
			covered[n.GetOpType()] = true
		}
	}
	var missing []string
	for op, impl := range opTable {
		if impl.lower != nil && !covered[op] {
			missing = append(missing, op)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("lowerings without a forward/gradient case: %v", missing)
	}
}

// awayFrom moves values within 0.01 of a kink 0.02 away from it, so central differences
// see one side of a piecewise function only.
func awayFrom(v []float32, kinks ...float32) []float32 {
	for i := range v {
		for _, k := range kinks {
			if d := v[i] - k; d > -0.01 && d < 0.01 {
				v[i] = k + 0.02
			}
		}
	}
	return v
}
