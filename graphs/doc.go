// Package graphs is where every architecture of ssl4dp is written: ResNet encoders,
// segmentation heads and self-supervised heads, as Go that emits ONNX graphs with freshly
// initialised parameters. Training (train/, through the importer) and inference
// (onnxruntime) both start from these graphs.
//
// The simplest call builds torchvision's ResNet-18 with its ImageNet classifier:
//
//	m, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, Head: graphs.HeadClassifier, Classes: 1000})
//	err = onnx.WriteFile("resnet18.onnx", m)
//
// A segmentation model: a quarter-width ResNet-50 at output stride 16 with MoCo's FCN head,
// logits resized to the input:
//
//	m, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet50, OutputStride: 16, Width: 0.25,
//		Head: graphs.HeadFCN, Classes: 21, Seed: 1})
//
// A pre-training model: MoCo v2's projector on the pooled encoder features and DenseCL's dense
// projector on the feature map:
//
//	graphs.Spec{Encoder: graphs.ResNet50, Pretext: graphs.Pretext{Projector: graphs.ProjectorMoCoV2, Dense: true}}
//
// and an encoder-decoder one (EDMoCo, PLR): a segmentation head whose last conv has
// DecoderWidth channels instead of classes, with the projector reading its output:
//
//	graphs.Spec{Encoder: graphs.ResNet50, OutputStride: 16, Head: graphs.HeadDeepLabV3Plus,
//		DecoderWidth: 128, Pretext: graphs.Pretext{Projector: graphs.ProjectorMoCoV2, OnDecoder: true, Rotation: true}}
//
// # Tensor names
//
// Every model has the input "input" [N,3,H,W] with N, H and W dynamic (any size works, odd
// ones included: resizes and pooling read their sizes from Shape at run time). Its outputs,
// by default all of those the spec produces (Spec.Outputs selects):
//
//	features          [N,C,⌈H/os⌉,⌈W/os⌉]  last encoder stage (os = OutputStride)
//	low_level         [N,C,⌈H/4⌉,⌈W/4⌉]    layer1, for DeepLabv3+'s decoder
//	logits            [N,Classes,H,W]       segmentation head, bilinearly resized to the input
//	decoder_features  [N,DecoderWidth,h,w]  segmentation head ending in DecoderWidth channels (not resized)
//	projection        [N,Dim]               global projector on the pooled features
//	prediction        [N,Dim]               predictor after the projector (BYOL, SimSiam)
//	dense_projection  [N,DenseDim,h,w]      dense projector
//	rotation_logits   [N,4,H,W]             PLR's per-pixel rotation classifier, resized to the input
//	class_logits      [N,Classes]           avgpool + fc
//
// Build records the normalised Spec as JSON in the model's metadata_props under
// "ssl4dp.graphs.spec", so a trainer can tell which heads a model file carries.
//
// # Initializer names
//
// Encoder initializers are torchvision's state_dict keys, unprefixed (conv1.weight,
// layer1.0.bn1.running_mean, layer2.0.downsample.0.weight, …), whatever the heads, the
// output stride or the width: an encoder trained inside any model loads into any other by
// name, and a PyTorch ResNet checkpoint exported to ONNX maps one to one. The classifier is
// torchvision's fc.weight/fc.bias. Segmentation heads use MMSegmentation's module names under
// "head." (head.convs.0.conv.weight, head.psp_modules.2.1.bn.weight, head.conv_seg.bias; a
// decoder's last conv is head.conv_dec, so a pre-trained decoder loads into a segmentation
// head by name, all but its last conv); pretext heads use "projector.", "predictor.",
// "dense_projector." and "rotation." with nn.Sequential's indices.
//
// # Parameters
//
// Initial values follow PyTorch's schemes (see Filler): Kaiming-normal fan_out for convs as
// torchvision's ResNet and mmcv's ConvModule do, BatchNorm γ=1, β=0, running mean 0 and
// variance 1, nn.Linear's U(±1/√fan_in) for linear layers, N(0, 0.01²) for mmseg's
// classifier convs. Each initializer's values depend only on Spec.Seed and its name. Width
// multiplies every encoder stage width (the stem's included) and every head's internal
// width (MoCo FCN's 256, PSP's 512, …), rounding to the nearest integer; Classes,
// DecoderWidth and the projection sizes are never scaled. Parameters that PyTorch does not
// train (an affine-free BatchNorm's γ and β, the non-local block's 1/√C) are Constant nodes,
// not initializers, so onnx.Roles never counts or trains them.
//
// # Checking and costs
//
// Analyze infers every shape at a concrete input size, evaluating the integer shape
// arithmetic, and Measure adds the parameter count and multiply-accumulates (Build checks
// each model this way). The ops this package emits are Conv, BatchNormalization, Relu,
// MaxPool, GlobalAveragePool, Flatten, Gemm, Add, Concat, Resize (linear, half_pixel, with a
// sizes input), MatMul, Transpose, Reshape, Softmax and Constant, plus the shape arithmetic
// Shape, Slice, Gather, Concat, Unsqueeze, Range, Add, Mul, Div (integer), GreaterOrEqual,
// Less, And, Cast and ReduceSum. Models use IR version 8 and opset 13.
//
// # Errors
//
// Build returns an error for a bad Spec (naming the field and its value) and never panics.
// Architecture code builds through a Builder whose error is sticky, as image/png's encoder
// does it: each layer call is a no-op after the first failure, which Builder.Graph returns.
package graphs
