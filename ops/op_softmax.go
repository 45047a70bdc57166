package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Softmax normalises x along one axis (ONNX opset-13 rule: only that axis, not the flattened
// trailing block of opset ≤ 12): y = exp(x − max) / Σ exp(x − max). Negative axes count from
// the end. Subtracting the maximum keeps large logits finite.
func Softmax(x *G.Node, axis int) (*G.Node, error) { return applySoftmax("Softmax", false, x, axis) }

// LogSoftmax is log(Softmax(x, axis)) computed stably as x − max − log Σ exp(x − max).
//
// Unlike Gorgonia's SoftMax/LogSoftMax, whose hashes omit the log flag so that the two of one
// input merge into a single node, the two ops here hash differently and stay distinct.
func LogSoftmax(x *G.Node, axis int) (*G.Node, error) {
	return applySoftmax("LogSoftmax", true, x, axis)
}

func applySoftmax(name string, log bool, x *G.Node, axis int) (*G.Node, error) {
	if x == nil {
		return nil, errorf("%s: nil input", name)
	}
	in := x.Shape().Clone()
	if len(in) == 0 {
		return nil, errorf("%s: input %q is a scalar, want rank >= 1", name, x.Name())
	}
	ax, err := onnxAxis(name, axis, len(in))
	if err != nil {
		return nil, err
	}
	y, err := G.ApplyOp(softmaxOp{axis: ax, log: log, in: in, buf: new(outBuf)}, x)
	if err != nil {
		return nil, errorf("%s: %w", name, err)
	}
	return y, nil
}

type softmaxOp struct {
	axis int
	log  bool
	in   tensor.Shape
	buf  *outBuf
}

func (op softmaxOp) name() string {
	if op.log {
		return "LogSoftmax"
	}
	return "Softmax"
}

func (op softmaxOp) Arity() int    { return 1 }
func (op softmaxOp) Type() hm.Type { return rankFnType(len(op.in), len(op.in)) }
func (op softmaxOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.in.Clone(), nil
}
func (op softmaxOp) ReturnsPtr() bool     { return false }
func (op softmaxOp) CallsExtern() bool    { return false }
func (op softmaxOp) OverwritesInput() int { return -1 }
func (op softmaxOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.Softmax{axis=%d,log=%t}%v", op.axis, op.log, op.in)
}
func (op softmaxOp) Hashcode() uint32 { return hashOf(op) }
func (op softmaxOp) String() string   { return fmt.Sprintf("%s{axis=%d}", op.name(), op.axis) }

func (op softmaxOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp(op.name(), forward, 0)()
	if len(vs) != 1 {
		return nil, errorf("%s: got %d inputs, want 1", op.name(), len(vs))
	}
	if err := checkRunShape(op.name(), vs[0], op.in); err != nil {
		return nil, err
	}
	if e, t, err := valuesOn(op.name(), vs[0]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.forwardDevice(e, t[0])
	}
	f32, err := isFloat32(op.name(), vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return softmaxDo[float32](op, vs[0])
	}
	return softmaxDo[float64](op, vs[0])
}

func softmaxDo[T Float](op softmaxOp, v G.Value) (G.Value, error) {
	x, err := valueData[T](v)
	if err != nil {
		return nil, errorf("%s: %w", op.name(), err)
	}
	yt, y := keptOutput[T](op.buf, op.in)
	outer, n, inner := splitAt(op.in, op.axis)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			softmaxFibre(x[base:], y[base:], n, inner, op.log)
		}
	}
	return yt, nil
}

// softmaxFibre writes the (log-)softmax of the n values x[0], x[inner], x[2·inner], … to the
// same positions of y.
func softmaxFibre[T Float](x, y []T, n, inner int, log bool) {
	m := math.Inf(-1)
	for k := 0; k < n; k++ {
		m = math.Max(m, float64(x[k*inner]))
	}
	var sum float64
	for k := 0; k < n; k++ {
		sum += math.Exp(float64(x[k*inner]) - m)
	}
	if log {
		lse := m + math.Log(sum)
		for k := 0; k < n; k++ {
			y[k*inner] = T(float64(x[k*inner]) - lse)
		}
		return
	}
	for k := 0; k < n; k++ {
		y[k*inner] = T(math.Exp(float64(x[k*inner])-m) / sum)
	}
}

func (op softmaxOp) DiffWRT(int) []bool { return []bool{true} }

func (op softmaxOp) SymDiff(in G.Nodes, out, g *G.Node) (G.Nodes, error) {
	dx, err := G.ApplyOp(softmaxDiffOp{f: op, buf: new(outBuf)}, out, g)
	if err != nil {
		return nil, errorf("%s gradient: %w", op.name(), err)
	}
	return G.Nodes{dx}, nil
}

// softmaxDiffOp computes dL/dx from the forward output y and dL/dy, per fibre along the axis:
// softmax: y ⊙ (g − Σ g⊙y); log-softmax: g − exp(y) · Σ g.
type softmaxDiffOp struct {
	f   softmaxOp
	buf *outBuf // its own, not the forward op's f.buf
}

func (op softmaxDiffOp) Arity() int { return 2 }
func (op softmaxDiffOp) Type() hm.Type {
	d := len(op.f.in)
	return rankFnType(d, d, d)
}
func (op softmaxDiffOp) InferShape(...G.DimSizer) (tensor.Shape, error) {
	return op.f.in.Clone(), nil
}
func (op softmaxDiffOp) ReturnsPtr() bool     { return false }
func (op softmaxDiffOp) CallsExtern() bool    { return false }
func (op softmaxDiffOp) OverwritesInput() int { return -1 }
func (op softmaxDiffOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.SoftmaxDiff{axis=%d,log=%t}%v", op.f.axis, op.f.log, op.f.in)
}
func (op softmaxDiffOp) Hashcode() uint32 { return hashOf(op) }
func (op softmaxDiffOp) String() string {
	return fmt.Sprintf("%sDiff{axis=%d}", op.f.name(), op.f.axis)
}

func (op softmaxDiffOp) Do(vs ...G.Value) (G.Value, error) {
	defer timeOp(op.f.name(), backward, 0)()
	what := op.f.name() + "Diff"
	if len(vs) != 2 {
		return nil, errorf("%s: got %d inputs, want 2", what, len(vs))
	}
	for _, v := range vs {
		if err := checkRunShape(what, v, op.f.in); err != nil {
			return nil, err
		}
	}
	if e, t, err := valuesOn(what, vs[0], vs[1]); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return op.f.backwardDevice(e, op.buf, t[0], t[1])
	}
	f32, err := isFloat32(what, vs[0])
	if err != nil {
		return nil, err
	}
	if f32 {
		return softmaxDiffDo[float32](op.f, op.buf, vs[0], vs[1])
	}
	return softmaxDiffDo[float64](op.f, op.buf, vs[0], vs[1])
}

func softmaxDiffDo[T Float](op softmaxOp, buf *outBuf, yv, gv G.Value) (G.Value, error) {
	y, err := valueData[T](yv)
	if err != nil {
		return nil, errorf("%sDiff: %w", op.name(), err)
	}
	g, err := valueData[T](gv)
	if err != nil {
		return nil, errorf("%sDiff: %w", op.name(), err)
	}
	dxt, dx := keptOutput[T](buf, op.in)
	outer, n, inner := splitAt(op.in, op.axis)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			base := o*n*inner + i
			yf, gf, df := y[base:], g[base:], dx[base:]
			var s float64
			if op.log {
				for k := 0; k < n; k++ {
					s += float64(gf[k*inner])
				}
				for k := 0; k < n; k++ {
					df[k*inner] = T(float64(gf[k*inner]) - math.Exp(float64(yf[k*inner]))*s)
				}
				continue
			}
			for k := 0; k < n; k++ {
				s += float64(gf[k*inner]) * float64(yf[k*inner])
			}
			for k := 0; k < n; k++ {
				df[k*inner] = T(float64(yf[k*inner]) * (float64(gf[k*inner]) - s))
			}
		}
	}
	return dxt, nil
}
