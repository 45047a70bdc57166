package importer

import (
	"fmt"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// foldedBatchNormWarning recognises a model exported for inference with BatchNorm folded
// into the convolutions (PyTorch's default eval export): no BatchNormalization node, yet
// the stem's convolution has a bias, which torchvision-style networks never give a conv
// that a BatchNorm follows. Such a model trains, but without normalisation layers.
func foldedBatchNormWarning(g *pb.GraphProto) string {
	var firstConv *pb.NodeProto
	for _, n := range g.Node {
		switch n.GetOpType() {
		case "BatchNormalization", "LayerNormalization", "ReduceMean":
			// Normalised some other way: LayerNorm as one node or decomposed (ConvNeXt, ViT).
			return ""
		case "Conv":
			if firstConv == nil {
				firstConv = n
			}
		}
	}
	if firstConv == nil || len(firstConv.Input) < 3 || firstConv.Input[2] == "" {
		return ""
	}
	return fmt.Sprintf("the model has no BatchNormalization nodes and its first convolution %q has a bias: "+
		"BatchNorm was probably folded into the convolutions by an inference export, so fine-tuning runs without normalisation; "+
		"re-export with torch.onnx.export(..., training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False) (docs/import.md)", nodeName(firstConv))
}
