// Package importer lowers an ONNX model onto a Gorgonia expression graph that trains: every
// float initializer used as a weight becomes a trainable node, BatchNorm running statistics
// become buffers updated in training mode, and shape subgraphs are folded at import time
// because Gorgonia graphs are static (input shapes are fixed per import). docs/import.md has
// the PyTorch export recipe and the op table.
//
// The simplest use:
//
//	mp, err := onnx.ReadFile("resnet18.onnx")
//	m, err := importer.Import(mp, importer.Options{
//		InputShapes: map[string][]int{"input": {8, 3, 128, 128}},
//	})
//	x, err := m.Input("input")                    // bind a batch with G.Let(x, batch)
//	logits, err := m.Output("output")             // or m.Tensor("features"): any tensor by name
//	loss, err := ops.SoftmaxCrossEntropy(logits, labels, 255)
//	_, err = G.Grad(loss, m.Learnables()...)
//	vm := G.NewTapeMachine(m.Graph)                // not BindDualValues: v0.9.18 then adds every
//	                                              // run's gradient to the last (see train/doc.go)
//	m.SetTraining(true)                           // BatchNorm batch statistics, Dropout on
//	... vm.RunAll(); optimizer step on m.Params() values and gradients; vm.Reset() ...
//	m.SetTraining(false)                          // evaluation: same graph, same machine
//	trained, err := m.WriteBack()                 // a copy of mp with the trained values
//	err = onnx.WriteFile("trained.onnx", trained)
//
// Going further, with Options: several models share one graph (Graph, with a distinct
// Prefix each — an encoder and a projector, or MoCo's key encoder as a second import that
// takes the first one's input through InputNodes), several imports share one mode (Phase),
// parameters are frozen by name prefix (Freeze), gradients are checked in float64 (Dtype,
// NoDropout), and initializers that PyTorch's exporter merged are trained tied (AllowTied).
//
// What the model holds: Params lists every trainable initializer in the model's order
// (frozen ones flagged), Learnables the ones to differentiate, BatchNorms the running
// statistics (ops.BNState, updated in place), Warnings what the import noticed (BatchNorm
// folded by an inference export, tied parameters). InferenceForm rewrites a PyTorch training
// export (BatchNorm listing its running-statistic outputs, Dropout with training_mode=true)
// into the form onnxruntime runs in evaluation mode; the package check compares the two.
//
// # Errors
//
// Import never panics on a bad or unsupported model. An op, attribute or input form it cannot
// lower is an *UnsupportedError naming the node, op type and opset and saying what to do;
// other failures of one node are *NodeError values; Options that do not fit the model (input
// shapes and names, dtype) are *OptionsError values (ExitCode 2: the caller's input). Nothing
// unsupported is approximated.
package importer
