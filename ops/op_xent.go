package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftmaxCrossEntropy is the fused softmax + negative log-likelihood of PyTorch's
// F.cross_entropy(logits, labels, ignore_index=ignore) with mean reduction.
//
// logits is [N, C] or [N, C, d1, …]; labels has the logits' shape without the class axis
// (axis 1) and holds class indices as float values, so it can be an input node bound anew
// each step. Entries equal to ignore contribute nothing; the result is the scalar mean over
// the others, or 0 (with zero gradient) when every entry is ignored — where PyTorch gives NaN.
// Any other label outside [0, C), or not a whole number, makes the run fail with an error
// naming the value and its position.
//
// The gradient with respect to the logits is (softmax − onehot(label)) / count; labels get
// none.
func SoftmaxCrossEntropy(logits, labels *G.Node, ignore int) (*G.Node, error) {
	if logits == nil || labels == nil {
		return nil, errorf("SoftmaxCrossEntropy: nil input")
	}
	ls, ys := logits.Shape().Clone(), labels.Shape().Clone()
	if len(ls) < 2 {
		return nil, errorf("SoftmaxCrossEntropy: logits %q have shape %v, want [N, C] or [N, C, d1, ...]", logits.Name(), ls)
	}
	want := append(tensor.Shape{ls[0]}, ls[2:]...)
	if !ys.Eq(want) {
		return nil, errorf("SoftmaxCrossEntropy: labels %q have shape %v, want %v (logits %v without the class axis)", labels.Name(), ys, want, ls)
	}
	y, err := G.ApplyOp(xentOp{ignore: ignore, logits: ls, labels: ys}, logits, labels)
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropy: %w", err)
	}
	return y, nil
}

type xentOp struct {
	ignore         int
	logits, labels tensor.Shape
}

func (op xentOp) Arity() int                                     { return 2 }
func (op xentOp) Type() hm.Type                                  { return rankFnType(0, len(op.logits), len(op.labels)) }
func (op xentOp) InferShape(...G.DimSizer) (tensor.Shape, error) { return tensor.Shape{}, nil }
func (op xentOp) ReturnsPtr() bool                               { return false }
func (op xentOp) CallsExtern() bool                              { return false }
func (op xentOp) OverwritesInput() int                           { return -1 }
func (op xentOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.SoftmaxCrossEntropy{ignore=%d}%v", op.ignore, op.logits)
}
func (op xentOp) Hashcode() uint32 { return hashOf(op) }
func (op xentOp) String() string   { return fmt.Sprintf("SoftmaxCrossEntropy{ignore=%d}", op.ignore) }

func (op xentOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("SoftmaxCrossEntropy", forward, 0)()
	if err := op.check("SoftmaxCrossEntropy", vs, 2); err != nil {
		return nil, err
	}
	f32, err := isFloat32("SoftmaxCrossEntropy", vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return xentDo[float32](op, vs[0], vs[1])
	}
	return xentDo[float64](op, vs[0], vs[1])
}

// check validates the run-time inputs (logits, labels[, grad]).
func (op xentOp) check(what string, vs []G.Value, n int) error {
	if len(vs) != n {
		return errorf("%s: got %d inputs, want %d", what, len(vs), n)
	}
	if err := checkRunShape(what, vs[0], op.logits); err != nil {
		return err
	}
	if err := checkRunShape(what, vs[1], op.labels); err != nil {
		return err
	}
	if vs[1].Dtype() != vs[0].Dtype() {
		return errorf("%s: labels are %v, want %v like the logits", what, vs[1].Dtype(), vs[0].Dtype())
	}
	return nil
}

// xentCount checks every label and counts the positions that are not ignored; it fails on
// the first label that is neither a class in [0, C) nor the ignore value.
func xentCount[T Float](op xentOp, labels []T) (int, error) {
	c := op.logits[1]
	count := 0
	for pos, v := range labels {
		l := float64(v)
		if l == float64(op.ignore) {
			continue
		}
		if l != math.Trunc(l) || l < 0 || l >= float64(c) {
			return 0, errorf("SoftmaxCrossEntropy: label %v at position %d of labels %v is not a class in [0, %d) nor the ignore value %d", l, pos, op.labels, c, op.ignore)
		}
		count++
	}
	return count, nil
}

// xentImages runs fn(o, e) for every image o (outer index) across CPUs; e is a per-goroutine
// scratch of C float64s. Images are independent, so any split gives the same results.
func xentImages(op xentOp, fn func(o int, e []float64)) {
	outer, c, inner := splitAt(op.logits, 1)
	parallelFor(outer, outer*c*inner, func(lo, hi int) {
		e := make([]float64, c)
		for o := lo; o < hi; o++ {
			fn(o, e)
		}
	})
}

// xentPosition fills e with exp(x_k − max) for the C logits x[0], x[inner], … of one position
// and returns max and Σ e.
func xentPosition[T Float](x []T, inner int, e []float64) (m, sum float64) {
	m = math.Inf(-1)
	for k := range e {
		m = math.Max(m, float64(x[k*inner]))
	}
	for k := range e {
		e[k] = math.Exp(float64(x[k*inner]) - m)
		sum += e[k]
	}
	return m, sum
}

func xentDo[T Float](op xentOp, lv, yv G.Value) (G.Value, error) {
	x, err := valueData[T](lv)
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropy: %w", err)
	}
	labels, err := valueData[T](yv)
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropy: %w", err)
	}
	count, err := xentCount(op, labels)
	if err != nil {
		return nil, err
	}
	// Per-image sums, added in image order: the same total for any number of CPUs.
	outer, c, inner := splitAt(op.logits, 1)
	partial := make([]float64, outer)
	xentImages(op, func(o int, e []float64) {
		var sum float64
		for i, l := range labels[o*inner : (o+1)*inner] {
			if int(l) == op.ignore {
				continue
			}
			f := x[o*c*inner+i:]
			m, s := xentPosition(f, inner, e)
			sum += m + math.Log(s) - float64(f[int(l)*inner])
		}
		partial[o] = sum
	})
	var total float64
	for _, v := range partial {
		total += v
	}
	if count > 0 {
		total /= float64(count)
	}
	return newValue(tensor.Shape{}, []T{T(total)}), nil
}

func (op xentOp) DiffWRT(int) []bool { return []bool{true, false} }

func (op xentOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	if len(in) != 2 {
		return nil, errorf("SoftmaxCrossEntropy gradient: got %d inputs, want 2", len(in))
	}
	dx, err := G.ApplyOp(xentDiffOp{f: op, buf: new(outBuf)}, in[0], in[1], g)
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropy gradient: %w", err)
	}
	return G.Nodes{dx, nil}, nil
}

// xentDiffOp computes dL/dlogits = g · (softmax(logits) − onehot(label)) / count from
// (logits, labels, g), with zero rows for ignored positions.
type xentDiffOp struct {
	f   xentOp
	buf *outBuf
}

func (op xentDiffOp) Arity() int { return 3 }
func (op xentDiffOp) Type() hm.Type {
	return rankFnType(len(op.f.logits), len(op.f.logits), len(op.f.labels), 0)
}
func (op xentDiffOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.f.logits.Clone(), nil
}
func (op xentDiffOp) ReturnsPtr() bool     { return false }
func (op xentDiffOp) CallsExtern() bool    { return false }
func (op xentDiffOp) OverwritesInput() int { return -1 }
func (op xentDiffOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.SoftmaxCrossEntropyDiff{ignore=%d}%v", op.f.ignore, op.f.logits)
}
func (op xentDiffOp) Hashcode() uint32 { return hashOf(op) }
func (op xentDiffOp) String() string {
	return fmt.Sprintf("SoftmaxCrossEntropyDiff{ignore=%d}", op.f.ignore)
}

func (op xentDiffOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp("SoftmaxCrossEntropy", backward, 0)()
	if err := op.f.check("SoftmaxCrossEntropyDiff", vs, 3); err != nil {
		return nil, err
	}
	f32, err := isFloat32("SoftmaxCrossEntropyDiff", vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return xentDiffDo[float32](op.f, op.buf, vs)
	}
	return xentDiffDo[float64](op.f, op.buf, vs)
}

func xentDiffDo[T Float](op xentOp, buf *outBuf, vs []G.Value) (G.Value, error) {
	x, err := valueData[T](vs[0])
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropyDiff: %w", err)
	}
	labels, err := valueData[T](vs[1])
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropyDiff: %w", err)
	}
	g, err := scalarArg[T](vs[2])
	if err != nil {
		return nil, errorf("SoftmaxCrossEntropyDiff: output gradient: %w", err)
	}
	// Count first: every row's gradient is divided by the number of labelled positions.
	count, err := xentCount(op, labels)
	if err != nil {
		return nil, err
	}
	dxt, dx := keptOutput[T](buf, op.logits)
	if count == 0 {
		clear(dx)
		return dxt, nil
	}
	_, c, inner := splitAt(op.logits, 1)
	w := float64(g) / float64(count)
	xentImages(op, func(o int, e []float64) {
		for i, l := range labels[o*inner : (o+1)*inner] {
			base := o*c*inner + i
			d := dx[base:]
			if int(l) == op.ignore {
				for k := range e {
					d[k*inner] = 0
				}
				continue
			}
			_, s := xentPosition(x[base:], inner, e)
			ws := w / s
			for k, v := range e {
				d[k*inner] = T(ws * v)
			}
			d[int(l)*inner] -= T(w)
		}
	})
	return dxt, nil
}
