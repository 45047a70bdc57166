package train

import (
	"fmt"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops"
)

// Keeper is a Task that reads nodes' values after a pass (its Monitors, AfterStep): the
// memory plan keeps those values alive past the step instead of letting later nodes of the
// pass overwrite them. The loss and its parts are kept without being listed.
type Keeper interface {
	KeepNodes() G.Nodes
}

// PlanMemory plans the memory of task's training step (ops.PlanMemoryWith): the loss, its
// parts, the parameters' gradients and the task's KeepNodes stay readable after each pass,
// every other op output shares memory with values not alive at the same time. Call it after
// G.Grad and G.NewTapeMachine, before the first pass. bench train and the pretext tests use
// it as the engine does.
func PlanMemory(task Task, opt ops.PlanOptions) (*ops.MemoryPlan, error) {
	keep := G.Nodes{task.Loss()}
	for _, n := range task.Parts() {
		keep = append(keep, n)
	}
	if k, ok := task.(Keeper); ok {
		keep = append(keep, k.KeepNodes()...)
	}
	p, err := ops.PlanMemoryWith(task.Graph(), opt, keep...)
	if err != nil {
		return nil, fmt.Errorf("train: task %s: %w", task.Name(), err)
	}
	return p, nil
}
