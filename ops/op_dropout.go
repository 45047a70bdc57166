package ops

import (
	"fmt"
	"hash"
	"math/rand/v2"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Dropout is inverted dropout (ONNX Dropout, torch.nn.Dropout): while phase.Training is set,
// each element is zeroed with probability p and the kept ones are scaled by 1/(1−p), so the
// expected value is unchanged; otherwise it is the identity. Gorgonia's own Dropout scales by
// p instead.
//
// In training the mask is drawn from a generator seeded by (seed, phase.Step): each training
// step gets a fresh mask, the same step always the same one (so a resumed run reproduces an
// uninterrupted one); give each Dropout node its own seed. The
// seed is part of the op's hash, so two Dropouts with different seeds on one input are never
// merged into one node. The phase is read at run time: one graph serves training and
// evaluation.
func Dropout(x *G.Node, p float64, phase *Phase, seed int64) (*G.Node, error) {
	if x == nil {
		return nil, errorf("Dropout: nil input")
	}
	if phase == nil {
		return nil, errorf("Dropout: nil *Phase for input %q, want the model's shared phase", x.Name())
	}
	if !(p >= 0 && p < 1) {
		return nil, errorf("Dropout: probability %v for input %q, want 0 <= p < 1", p, x.Name())
	}
	op := dropoutOp{p: p, seed: seed, phase: phase, in: x.Shape().Clone(), st: &dropoutState{}, buf: new(outBuf)}
	y, err := G.ApplyOp(op, x)
	if err != nil {
		return nil, errorf("Dropout: %w", err)
	}
	return y, nil
}

// dropoutState is what one forward run leaves for the backward pass of the same run.
type dropoutState struct {
	keep    []bool        // mask of the last training-mode run
	trained bool          // whether the last run was in training mode
	dkeep   *tensor.Dense // on a device: that mask as int32 0/1 (device_dropout.go)
}

type dropoutOp struct {
	p     float64
	seed  int64
	phase *Phase
	in    tensor.Shape
	st    *dropoutState
	buf   *outBuf
}

func (op dropoutOp) Arity() int    { return 1 }
func (op dropoutOp) Type() hm.Type { return rankFnType(len(op.in), len(op.in)) }
func (op dropoutOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.in.Clone(), nil
}
func (op dropoutOp) ReturnsPtr() bool     { return false }
func (op dropoutOp) CallsExtern() bool    { return false }
func (op dropoutOp) OverwritesInput() int { return -1 }
func (op dropoutOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.Dropout{p=%v,seed=%d,phase=%p}%v", op.p, op.seed, op.phase, op.in)
}
func (op dropoutOp) Hashcode() uint32 { return hashOf(op) }
func (op dropoutOp) String() string   { return fmt.Sprintf("Dropout{p=%v,seed=%d}", op.p, op.seed) }

func (op dropoutOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("Dropout", forward, 0)()
	if len(vs) != 1 {
		return nil, errorf("Dropout: got %d inputs, want 1", len(vs))
	}
	if err := checkRunShape("Dropout", vs[0], op.in); err != nil {
		return nil, err
	}
	f32, err := isFloat32("Dropout", vs[0])
	if err != nil {
		return nil, err
	}
	op.st.trained = op.phase.Training
	if e, t, err := valuesOn("Dropout", vs[0]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.forwardDevice(e, t[0])
	}
	if op.st.trained {
		// The mask depends only on (seed, step): reproducible across resumes, fresh each step.
		rng := rand.New(rand.NewPCG(uint64(op.seed), uint64(op.phase.Step)^0x55d4a1d0))
		op.st.keep = op.st.keep[:0]
		for range op.in.TotalSize() {
			op.st.keep = append(op.st.keep, rng.Float64() >= op.p)
		}
	}
	if f32 {
		return dropoutApply[float32](op.st, op.buf, op.p, op.in, vs[0])
	}
	return dropoutApply[float64](op.st, op.buf, op.p, op.in, vs[0])
}

// dropoutApply multiplies v by the recorded mask scaled by 1/(1−p), or copies it when the run
// was not in training mode. The backward pass applies the same map to the gradient.
func dropoutApply[T Float](st *dropoutState, buf *outBuf, p float64, shape tensor.Shape, v G.Value) (G.Value, error) {
	x, err := valueData[T](v)
	if err != nil {
		return nil, errorf("Dropout: %w", err)
	}
	yt, y := keptOutput[T](buf, shape)
	if !st.trained {
		copy(y, x)
		return yt, nil
	}
	if len(st.keep) != len(x) {
		return nil, errorf("Dropout: mask has %d entries, input %d (backward ran without its forward)", len(st.keep), len(x))
	}
	scale := T(1 / (1 - p))
	for i, k := range st.keep {
		if k {
			y[i] = x[i] * scale
		} else {
			y[i] = 0
		}
	}
	return yt, nil
}

func (op dropoutOp) DiffWRT(int) []bool { return []bool{true} }

// SymDiff applies the diff op to (y, g): y is there only so that the backward node runs after
// this node's forward in every topological order, even when g does not depend on y.
func (op dropoutOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(dropoutDiffOp{f: op, buf: new(outBuf)}, out, g)
	if err != nil {
		return nil, errorf("Dropout gradient: %w", err)
	}
	return G.Nodes{dx}, nil
}

// dropoutDiffOp multiplies the output gradient by the mask the forward run drew.
type dropoutDiffOp struct {
	f   dropoutOp
	buf *outBuf // its own, not the forward op's f.buf
}

func (op dropoutDiffOp) Arity() int { return 2 }
func (op dropoutDiffOp) Type() hm.Type {
	d := len(op.f.in)
	return rankFnType(d, d, d)
}
func (op dropoutDiffOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.f.in.Clone(), nil
}
func (op dropoutDiffOp) ReturnsPtr() bool     { return false }
func (op dropoutDiffOp) CallsExtern() bool    { return false }
func (op dropoutDiffOp) OverwritesInput() int { return -1 }
func (op dropoutDiffOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.DropoutDiff{p=%v,seed=%d,phase=%p}%v", op.f.p, op.f.seed, op.f.phase, op.f.in)
}
func (op dropoutDiffOp) Hashcode() uint32 { return hashOf(op) }
func (op dropoutDiffOp) String() string {
	return fmt.Sprintf("DropoutDiff{p=%v,seed=%d}", op.f.p, op.f.seed)
}

func (op dropoutDiffOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("Dropout", backward, 0)()
	if len(vs) != 2 {
		return nil, errorf("DropoutDiff: got %d inputs, want 2", len(vs))
	}
	if err := checkRunShape("DropoutDiff", vs[1], op.f.in); err != nil {
		return nil, err
	}
	if e, t, err := valuesOn("DropoutDiff", vs[1]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.f.apply(e, op.buf, t[0])
	}
	f32, err := isFloat32("DropoutDiff", vs[1])
	if err != nil {
		return nil, err
	}
	if f32 {
		return dropoutApply[float32](op.f.st, op.buf, op.f.p, op.f.in, vs[1])
	}
	return dropoutApply[float64](op.f.st, op.buf, op.f.p, op.f.in, vs[1])
}
