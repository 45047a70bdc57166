package bench

import (
	"fmt"
	"slices"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
)

// Step is one training step as Train times it: the part of train.Task that a step needs
// (no checkpoints, no outputs), so every task of the training engine is a Step and a
// pretext method joins `bench train --method` with one entry in methods.
type Step interface {
	Name() string
	DataTask() data.Task
	Build(batch int) error
	Graph() *G.ExprGraph
	Loss() *G.Node
	Learnables() []importer.Param
	Bind(b *data.Batch, step int) error
	AfterStep(step int) error
}

// Work is the arithmetic of one step, for GFLOP/s: the forward multiply-adds (graphs.Measure
// at the step's batch and size) of the networks the step trains, and of those it only runs
// forward (a momentum encoder).
type Work struct {
	TrainedMACs     int64 `json:"trained_macs"`
	ForwardOnlyMACs int64 `json:"forward_only_macs"`
}

// FLOPConvention says how FLOPs turns Work into floating-point operations.
const FLOPConvention = "2 flops per multiply-add; forward+backward = 3 × forward for trained networks, 1 × for forward-only ones; Conv/Gemm/MatMul multiply-adds counted by graphs.Measure"

// FLOPs is 2·(3·TrainedMACs + ForwardOnlyMACs): a backward pass costs about twice its
// forward pass (gradients with respect to the input and to the weights), and each
// multiply-add is two operations.
func (w Work) FLOPs() float64 { return 2 * (3*float64(w.TrainedMACs) + float64(w.ForwardOnlyMACs)) }

// A Method makes the Step that `bench train --method NAME` times, and its Work at c.Batch
// and c.Size. c is normalized.
type Method func(c TrainConfig) (Step, Work, error)

// methods are the steps Train can time by name. Pretext methods (moco, plmoco, …) join here
// as adapters of their train.Task.
var methods = map[string]Method{
	"seg": newSegStep,
}

// Methods lists the names TrainConfig.Method accepts, sorted.
func Methods() []string {
	var names []string
	for n := range methods {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// scalar is the value of a float32 or float64 scalar node (the loss).
func scalar(n *G.Node) (float64, error) {
	v := n.Value()
	if v == nil {
		return 0, fmt.Errorf("bench: node %s has no value", n.Name())
	}
	switch x := v.Data().(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	case []float32:
		if len(x) == 1 {
			return float64(x[0]), nil
		}
	case []float64:
		if len(x) == 1 {
			return x[0], nil
		}
	}
	return 0, fmt.Errorf("bench: node %s holds %T, want a float scalar", n.Name(), v.Data())
}
