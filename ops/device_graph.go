package ops

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// ToDevice puts a graph's values on e's device before a machine runs it there: every host
// float32 tensor bound to an input node (parameters, data inputs) is uploaded and bound in
// its place, and the BatchNorm states' running statistics move to the device. Then
// G.NewTapeMachine(g, G.WithEngine(e)) runs the graph's ops on the device; scalars (the
// loss) come back as host values, tensors stay on the device (device.Download reads them).
// Call it after the last G.Let of host data; later data goes in with G.Let of a device
// tensor (e.Upload, or a copy into a kept one).
func ToDevice(g *G.ExprGraph, e *device.Engine, states ...*BNState) error {
	for _, n := range g.AllNodes() {
		if n.Op() != nil || n.Value() == nil {
			continue
		}
		t, ok := n.Value().(*tensor.Dense)
		if !ok || device.Of(t) != nil || t.Dtype() != tensor.Float32 {
			continue
		}
		d, err := e.Upload(t)
		if err != nil {
			return errorf("ToDevice: %s: %w", n.Name(), err)
		}
		if err := G.Let(n, d); err != nil {
			return errorf("ToDevice: %s: %w", n.Name(), err)
		}
	}
	for _, st := range states {
		if err := st.ToDevice(e); err != nil {
			return err
		}
	}
	return nil
}

// BNStates returns the BatchNorm (and BatchNorm+ReLU) states of g's ops, each once, in
// graph order: what a device run moves beside the parameters.
func BNStates(g *G.ExprGraph) []*BNState {
	var out []*BNState
	seen := map[*BNState]bool{}
	for _, n := range g.AllNodes() {
		if op, ok := n.Op().(*bnOp); ok && !seen[op.st] {
			seen[op.st] = true
			out = append(out, op.st)
		}
	}
	return out
}
