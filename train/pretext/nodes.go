package pretext

import (
	"fmt"
	"sync/atomic"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// errorf prefixes messages with the package name, as every error of this package is.
func errorf(format string, args ...any) error {
	return fmt.Errorf("pretext: "+format, args...)
}

// nodeIDs numbers the constant and input nodes this package makes. Gorgonia merges input
// nodes of equal name, so every one gets a name no other node has.
var nodeIDs atomic.Int64

func uniqueName(what string) string { return fmt.Sprintf("pretext/%s/%d", what, nodeIDs.Add(1)) }

// denseOf is a tensor of dtype dt (float32 or float64) holding v.
func denseOf(dt tensor.Dtype, shape []int, v []float64) *tensor.Dense {
	if dt == tensor.Float64 {
		return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float64(nil), v...)))
	}
	d := make([]float32, len(v))
	for i, x := range v {
		d[i] = float32(x)
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(d))
}

// constant is a node holding fixed values (never learned, never rebound).
func constant(g *G.ExprGraph, dt tensor.Dtype, what string, shape []int, v []float64) *G.Node {
	return G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithValue(denseOf(dt, shape, v)), G.WithName(uniqueName(what)))
}

// scalar is a constant scalar node, which broadcasts against anything in ops' arithmetic
// (and keeps a scalar loss a scalar, as gorgonia.Grad wants).
func scalar(g *G.ExprGraph, dt tensor.Dtype, what string, v float64) *G.Node {
	var val G.Value = G.NewF32(float32(v))
	if dt == tensor.Float64 {
		val = G.NewF64(v)
	}
	return G.NewScalar(g, dt, G.WithValue(val), G.WithName(uniqueName(what)))
}

// input is a node whose value is bound before every run (keys, queues, labels).
func input(g *G.ExprGraph, dt tensor.Dtype, what string, shape ...int) *G.Node {
	return G.NewTensor(g, dt, len(shape), G.WithShape(shape...), G.WithName(uniqueName(what)))
}

// bind sets an input node's value to a float32 slice (shared, not copied).
func bind(n *G.Node, data []float32) error {
	if len(data) != n.Shape().TotalSize() {
		return errorf("binding %s %v: got %d values, want %d", n.Name(), n.Shape(), len(data), n.Shape().TotalSize())
	}
	return G.Let(n, tensor.New(tensor.WithShape(n.Shape().Clone()...), tensor.WithBacking(data)))
}
