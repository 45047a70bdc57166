// Package importer lowers an ONNX model onto a Gorgonia expression graph that trains: every
// float initializer used as a weight becomes a trainable node, BatchNorm running statistics
// become buffers updated in training mode, and shape subgraphs are folded at import time
// because Gorgonia graphs are static (input shapes are fixed per import).
//
// The simplest use:
//
//	mp, err := onnx.ReadFile("resnet18.onnx")
//	m, err := importer.Import(mp, importer.Options{
//		InputShapes: map[string][]int{"input": {8, 3, 128, 128}},
//	})
//	logits, err := m.Output("output")            // or m.Tensor("features") for any tensor
//	... build a loss on logits; G.Grad(loss, m.Learnables()...); run a TapeMachine ...
//	m.SetTraining(false)                           // BatchNorm/Dropout to eval, same graph
//	trained, err := m.WriteBack()                  // a copy of mp with the trained values
//	err = onnx.WriteFile("trained.onnx", trained)
//
// Several models can share one graph (Options.Graph with a distinct Options.Prefix each),
// take existing nodes as inputs (Options.InputNodes), share a mode (Options.Phase), freeze
// parameters by name prefix (Options.Freeze), and compute in float64 for gradient checks
// (Options.Dtype).
//
// # Errors
//
// Import never panics on a bad or unsupported model. An op, attribute or input form it
// cannot lower is an *UnsupportedError naming the node, op type and opset and saying what to
// do; other failures of one node are *NodeError values. Nothing unsupported is approximated.
package importer
