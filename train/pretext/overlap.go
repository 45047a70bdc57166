package pretext

import (
	"fmt"
	"hash"
	"hash/fnv"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// keyPass is one step of a momentum network — its EMA update and its forward pass on the key
// view — run on a goroutine of its own from Bind, so that it goes on while the machine runs
// the online network's forward pass instead of before it. That pass is a quarter of a MoCo
// step's work, and at the sizes a CPU trains most ops keep only one core busy, so the other
// core would otherwise wait. The two passes only read what they share (the online weights,
// which the optimizer writes after the machine has finished), and each writes only its own
// network's values, so the results are the same bits as one after the other. The loss graph
// takes the pass's outputs through lateInput nodes, which wait for it.
type keyPass struct {
	done chan struct{}
	outs [][]float32
	err  error
}

// startKeyPass runs f on a new goroutine. (A variable: tests run f in place instead, as
// before the overlap, and compare.)
var startKeyPass = func(f func() ([][]float32, error)) *keyPass {
	p := &keyPass{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.outs, p.err = f()
	}()
	return p
}

// wait returns the pass's outputs once it has finished. A nil pass has none.
func (p *keyPass) wait() ([][]float32, error) {
	if p == nil {
		return nil, errorf("the momentum network was not run (no Bind before the step)")
	}
	<-p.done
	return p.outs, p.err
}

// join waits for the pass, if any, to finish: before anything else reads or writes the
// momentum network (the next Bind, a checkpoint, a restore).
func (p *keyPass) join() {
	if p != nil {
		<-p.done
	}
}

// lateInput is a node of shape shape whose value fill writes when the machine reaches it,
// which is after every node of after (the online network's outputs): until then the machine
// computes the online forward pass while fill's inputs — a keyPass — get ready. It stands
// where an input node would: no gradient flows through it, and its value is fresh memory
// on every run (the machine may reuse an op's output register for later results).
func lateInput(after []*G.Node, what string, shape []int, fill func(dst []float32) error) (*G.Node, error) {
	if len(after) == 0 {
		return nil, errorf("%s: no node to come after", what)
	}
	op := lateOp{name: uniqueName(what), shape: append(tensor.Shape(nil), shape...), fill: fill, dev: new(lateDev)}
	for _, n := range after {
		op.ranks = append(op.ranks, n.Shape().Dims())
	}
	n, err := G.ApplyOp(op, after...)
	if err != nil {
		return nil, errorf("%s: %w", what, err)
	}
	return n, nil
}

type lateOp struct {
	name  string // unique: Gorgonia merges nodes of equal hash and children
	shape tensor.Shape
	ranks []int // of the inputs, which only order the node
	fill  func([]float32) error
	dev   *lateDev // on a device: the value's device copy, kept between runs
}

// lateDev is a lateOp's device tensor: when the online pass runs on a device (its inputs
// are device tensors), the keys are copied in, as a batch would be.
type lateDev struct{ t *tensor.Dense }

func (op lateOp) Arity() int { return len(op.ranks) }

func (op lateOp) Type() hm.Type {
	a := hm.TypeVariable('a')
	ts := make([]hm.Type, 0, len(op.ranks)+1)
	for _, d := range append(append([]int(nil), op.ranks...), len(op.shape)) {
		if d == 0 {
			ts = append(ts, a)
		} else {
			ts = append(ts, G.TensorType{Dims: d, Of: a})
		}
	}
	return hm.NewFnType(ts...)
}

func (op lateOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return op.shape.Clone(), nil }
func (op lateOp) ReturnsPtr() bool                               { return false }
func (op lateOp) CallsExtern() bool                              { return false }
func (op lateOp) OverwritesInput() int                           { return -1 }
func (op lateOp) WriteHash(h hash.Hash)                          { fmt.Fprintf(h, "pretext.late %s %v", op.name, op.shape) }
func (op lateOp) Hashcode() uint32 {
	h := fnv.New32a()
	op.WriteHash(h)
	return h.Sum32()
}
func (op lateOp) String() string { return op.name }

func (op lateOp) Do(vs ...G.Value) (G.Value, error) {
	v := make([]float32, op.shape.TotalSize())
	if err := op.fill(v); err != nil {
		return nil, err
	}
	return op.value(vs, v)
}

// value is v as the node's output: a host tensor, or, when the pass runs on a device (the
// inputs it comes after are device tensors), v copied into the kept device tensor.
func (op lateOp) value(vs []G.Value, v []float32) (G.Value, error) {
	if len(vs) > 0 {
		if d, ok := vs[0].(*tensor.Dense); ok && device.Of(d) != nil {
			e := device.Of(d)
			if op.dev == nil {
				return nil, errorf("%s: built without a device buffer", op.name)
			}
			if op.dev.t == nil || device.Of(op.dev.t) != e {
				op.dev.t = e.New(op.shape.Clone()...)
			}
			if err := e.Dev.CopyIn(device.PtrOf(op.dev.t), device.Bytes32(v)); err != nil {
				return nil, errorf("%s: %w", op.name, err)
			}
			return op.dev.t, nil
		}
	}
	return tensor.New(tensor.WithShape(op.shape.Clone()...), tensor.WithBacking(v)), nil
}

// DiffWRT is false for every input: the inputs only say when the node runs, and Gorgonia
// then leaves the node out of the backward pass.
func (op lateOp) DiffWRT(n int) []bool { return make([]bool, n) }

// SymDiff is never called by gorgonia.Grad (DiffWRT says so); a direct call gets an error.
func (op lateOp) SymDiff(G.Nodes, *G.Node, *G.Node) (G.Nodes, error) {
	return nil, errorf("%s: not differentiable", op.name)
}

var _ G.SDOp = lateOp{}
