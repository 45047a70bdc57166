package importer

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops"
)

// Options configure one import. The zero value imports into a new graph, in float32, in
// evaluation mode, with every input shape taken from the model (which must then be fully
// static).
type Options struct {
	// Graph to import into; nil makes a new one. Several imports may share a graph (an
	// encoder and a projector, or MoCo's query and key encoders): give each a Prefix.
	Graph *G.ExprGraph
	// Prefix is prepended to the name of every node the import creates (inputs, parameters,
	// constants), so two imports into one graph never collide. Gorgonia merges input nodes
	// of equal name, so an import whose names already exist in Graph is refused.
	Prefix string

	// InputShapes fixes the shape of graph inputs by ONNX name. Gorgonia graphs are static:
	// an input with a symbolic dimension (N, H, W) needs its shape here.
	InputShapes map[string][]int
	// InputNodes supplies existing nodes as graph inputs by ONNX name (e.g. the output of
	// another import); their shapes fix the input shapes. Others become new input nodes.
	InputNodes map[string]*G.Node

	// Dtype is tensor.Float32 (the default) or tensor.Float64 (for gradient checks of whole
	// models). Initializers are converted; inputs must have this type.
	Dtype tensor.Dtype
	// Phase is shared by the model's BatchNorm and Dropout nodes; flip Phase.Training to
	// switch between training and evaluation without rebuilding. nil makes a new phase in
	// evaluation mode. Pass one phase to several imports to switch them together.
	Phase *ops.Phase

	// Freeze lists name prefixes of parameters to freeze: they stay in the graph with their
	// values but are not in Learnables (and so get no gradient and no update).
	Freeze []string
	// AllowTied trains initializers that feed several nodes as one shared tensor. Without
	// it such a model is refused (see the error for PyTorch's exporter merging values).
	AllowTied bool
	// ONNXRunningVar updates BatchNorm's running variance with the batch's population
	// variance as the ONNX spec writes it. By default the unbiased variance is used, as
	// PyTorch does, so a model trained here continues exactly as it would in PyTorch.
	ONNXRunningVar bool
	// NoFusion lowers every node on its own. By default a BatchNormalization whose only
	// reader is a Relu runs as one op with it (ops.BatchNormRelu), and its own output Y is
	// then not available by name (Model.Tensor); set NoFusion to read it.
	NoFusion bool
	// Seed makes each Dropout node's mask stream distinct and reproducible.
	Seed int64
	// NoDropout lowers every Dropout as the identity, in both modes. Gradient checks need
	// it: a training-mode Dropout draws a fresh mask on every run, which makes finite
	// differences meaningless.
	NoDropout bool
}

func (o Options) dtype() tensor.Dtype {
	if o.Dtype == (tensor.Dtype{}) {
		return tensor.Float32
	}
	return o.Dtype
}
