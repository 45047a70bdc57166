package ops

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// outBuf is the output tensor one op node keeps from run to run.
//
// Gorgonia v0.9.18's TapeMachine.Reset empties every register, so between runs a machine
// offers an op no buffer (UsePreallocDo gets nil) and an op that allocates its result
// allocates it again on every run: for a ResNet-18 training step that was ~300 MB of fresh
// tensors per step, all zeroed by the Go runtime and collected again. An op that keeps its
// own output instead writes each run's result over the last one.
//
// That is safe under these rules, which every op with an outBuf follows:
//   - Every node has its own op value, hence its own outBuf: constructors and SymDiff build a
//     new op for every ApplyOp, and a diff op never shares its forward op's buffer.
//   - A result read out of a node (Node.Value, Node.Grad) is valid until the next run of a
//     machine over that graph, which overwrites it; read it, or copy it, before then. One
//     machine at a time runs a graph (Gorgonia's nodes hold their values, so concurrent
//     machines over one graph are not safe anyway).
//   - Within a run the machine may hand the kept tensor to later nodes through the register
//     it was written to (its own liveness analysis says when that value is dead); the next run
//     repeats exactly the same sequence, so the tensor is never live twice at once.
//   - Kernels overwrite every element (or clear first): the buffer holds the last run's values.
//
// A machine's own offer (a register it reuses within the run) is taken first, as before.
//
// Under a memory plan (plan.go) the buffer is a place in an arena shared with other ops'
// values whose lifetimes do not overlap this one's; the rules above still hold for the
// values the plan keeps past the run, but any other value is overwritten by a later node of
// the same run. A planned buffer never takes the machine's offer (that tensor may be the plan's
// for another value by then).
type outBuf struct {
	t    *tensor.Dense
	slot *planSlot // non-nil: placed by a MemoryPlan
}

// get returns the tensor to write a result of this dtype and shape into: the machine's offer
// when usable, else the tensor kept from this node's last run, else a new one, kept. A
// planned buffer returns its place in the arena (a header over it made again when something
// downstream reshaped the last one in place).
func (b *outBuf) get(prealloc G.Value, dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	if s := b.slot; s != nil && s.dt == dt && s.shape.Eq(shape) {
		if p := usable(b.t, dt, shape); p != nil {
			return p
		}
		b.t = tensor.New(tensor.WithShape(shape.Clone()...), tensor.WithBacking(s.backing))
		return b.t
	}
	if p := usable(prealloc, dt, shape); p != nil {
		return p
	}
	if p := usable(b.t, dt, shape); p != nil {
		return p
	}
	b.t = tensor.New(tensor.Of(dt), tensor.WithShape(shape.Clone()...))
	return b.t
}

// usable returns v as a dense tensor an op may overwrite with a result of this dtype and
// shape, or nil. Something downstream may have reshaped or transposed a kept tensor in place
// (Gorgonia's unsafe ops do); such a tensor is not used.
func usable(v G.Value, dt tensor.Dtype, shape tensor.Shape) *tensor.Dense {
	p, ok := v.(*tensor.Dense)
	if !ok || p == nil || p.Dtype() != dt || !p.Shape().Eq(shape) || p.IsMaterializable() ||
		!p.IsNativelyAccessible() || p.IsMasked() || p.DataSize() != shape.TotalSize() {
		return nil
	}
	return p
}

// keptOutput returns b's tensor for a result of this (non-scalar) shape and its elements, for
// the part-B ops that build their results as slices: the caller overwrites every element.
// A nil b (an op value built without a buffer) gets a fresh tensor every time.
func keptOutput[T Float](b *outBuf, shape tensor.Shape) (*tensor.Dense, []T) {
	var t *tensor.Dense
	if b == nil {
		t = tensor.New(tensor.Of(dtypeOf[T]()), tensor.WithShape(shape.Clone()...))
	} else {
		t = b.get(nil, dtypeOf[T](), shape)
	}
	return t, elems[T](t)
}

// resultSlice is keptOutput for shapes that may be scalar: a scalar result gets a new
// one-element slice and a nil value (outValue then wraps it as Gorgonia wants scalars).
func resultSlice[T Float](b *outBuf, shape tensor.Shape) (G.Value, []T) {
	if len(shape) == 0 {
		return nil, make([]T, 1)
	}
	t, d := keptOutput[T](b, shape)
	return t, d
}

// outValue is the value holding y: kept, the tensor resultSlice returned with it, or else a
// new value (scalars).
func outValue[T Float](kept G.Value, shape tensor.Shape, y []T) G.Value {
	if kept != nil {
		return kept
	}
	return newValue(shape, y)
}
