package ops

import (
	"fmt"
	"hash"
	"math"

	"github.com/chewxy/hm"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Pointwise functions of one tensor that the modern classification families need and
// Gorgonia lacks or gets wrong at the edges (docs/import.md): each is one pass forward and
// one pass back, dx = dy ⊙ f′(x), computed in float64 for either dtype and rounded once.
type PointwiseKind int

const (
	// Erf is the error function (ONNX Erf; GELU's exact form in opsets < 20 exports).
	Erf PointwiseKind = iota + 1
	// Gelu is x·Φ(x) (ONNX Gelu, approximate="none").
	Gelu
	// Sqrt is √x (ONNX Sqrt; LayerNorm's decomposition); f′ = 1/(2√x), +Inf at 0.
	Sqrt
	// PowConst is x^Alpha for a constant exponent (ONNX Pow with an import-time exponent).
	PowConst
	// HardSigmoid is max(0, min(1, Alpha·x + Beta)) (ONNX HardSigmoid).
	HardSigmoid
	// HardSwish is x·max(0, min(1, x/6 + 1/2)) (ONNX HardSwish).
	HardSwish
)

var pointwiseNames = map[PointwiseKind]string{Erf: "Erf", Gelu: "Gelu", Sqrt: "Sqrt", PowConst: "Pow",
	HardSigmoid: "HardSigmoid", HardSwish: "HardSwish"}

func (k PointwiseKind) String() string {
	if s, ok := pointwiseNames[k]; ok {
		return s
	}
	return fmt.Sprintf("PointwiseKind(%d)", int(k))
}

// Pointwise applies f of kind k elementwise; alpha and beta are PowConst's exponent and
// HardSigmoid's slope and offset (ignored by the others).
func Pointwise(x *G.Node, k PointwiseKind, alpha, beta float64) (*G.Node, error) {
	if _, ok := pointwiseNames[k]; !ok {
		return nil, errorf("Pointwise: unknown kind %d", int(k))
	}
	if x == nil {
		return nil, errorf("%v: nil input", k)
	}
	in := x.Shape().Clone()
	if dt := x.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, errorf("%v: input %q has dtype %v, want float32 or float64", k, x.Name(), dt)
	}
	if math.IsNaN(alpha) || math.IsInf(alpha, 0) || math.IsNaN(beta) || math.IsInf(beta, 0) {
		return nil, errorf("%v: alpha %v and beta %v must be finite", k, alpha, beta)
	}
	y, err := G.ApplyOp(&pointwiseOp{k: k, alpha: alpha, beta: beta, in: in}, x)
	if err != nil {
		return nil, errorf("%v: %w", k, err)
	}
	return y, nil
}

type pointwiseOp struct {
	k           PointwiseKind
	alpha, beta float64
	in          tensor.Shape
	diff        bool // the gradient op: (x, dy) → dy ⊙ f′(x)
	buf         outBuf
}

func (op *pointwiseOp) name() string {
	if op.diff {
		return op.k.String() + " gradient"
	}
	return op.k.String()
}

func (op *pointwiseOp) Arity() int {
	if op.diff {
		return 2
	}
	return 1
}

func (op *pointwiseOp) Type() hm.Type {
	r := len(op.in)
	if op.diff {
		return dimsFnType(r, r, r)
	}
	return dimsFnType(r, r)
}

func (op *pointwiseOp) InferShape(in ...G.DimSizer) (tensor.Shape, error) {
	if _, err := inputShapes(op.name(), in, op.Arity()); err != nil {
		return nil, err
	}
	return op.in.Clone(), nil
}
func (op *pointwiseOp) ReturnsPtr() bool     { return false }
func (op *pointwiseOp) CallsExtern() bool    { return false }
func (op *pointwiseOp) OverwritesInput() int { return -1 }
func (op *pointwiseOp) WriteHash(h hash.Hash) {
	fmt.Fprintf(h, "ssl4dp.Pointwise%d,%v,%v,%v,%v", int(op.k), math.Float64bits(op.alpha), math.Float64bits(op.beta), op.diff, op.in)
}
func (op *pointwiseOp) Hashcode() uint32 { return hashOf(op) }
func (op *pointwiseOp) String() string {
	return fmt.Sprintf("%s(%v,%v)%s", op.k, op.alpha, op.beta, map[bool]string{true: "Diff"}[op.diff])
}
func (op *pointwiseOp) DiffWRT(inputs int) []bool {
	return []bool{!op.diff, false}[:inputs]
}

// SymDiff is dx = dy ⊙ f′(x), one pass over x and dy.
func (op *pointwiseOp) SymDiff(inputs G.Nodes, output, grad *G.Node) (G.Nodes, error) {
	if op.diff {
		return nil, errorf("%v: second derivatives are not implemented", op.k)
	}
	if len(inputs) != 1 {
		return nil, errorf("%v: SymDiff got %d inputs, want 1", op.k, len(inputs))
	}
	d := &pointwiseOp{k: op.k, alpha: op.alpha, beta: op.beta, in: op.in, diff: true}
	dx, err := G.ApplyOp(d, inputs[0], grad)
	if err != nil {
		return nil, errorf("%v gradient: %w", op.k, err)
	}
	return G.Nodes{dx}, nil
}

func (op *pointwiseOp) Do(in ...G.Value) (G.Value, error) { return op.UsePreallocDo(nil, in...) }

func (op *pointwiseOp) UsePreallocDo(prealloc G.Value, in ...G.Value) (G.Value, error) {
	pass := forward
	if op.diff {
		pass = backward
	}
	defer timeOp(op.k.String(), pass, 0)()
	a, err := denseInputs(op.name(), op.Arity(), in)
	if err != nil {
		return nil, err
	}
	for _, t := range a {
		if !t.Shape().Eq(op.in) {
			return nil, errorf("%s: input has shape %v at run time, want %v", op.name(), t.Shape(), op.in)
		}
	}
	if e, err := devOf(op.name(), a...); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return pointwiseDevice(op, e, prealloc, a)
	}
	y := op.buf.get(prealloc, a[0].Dtype(), op.in)
	if a[0].Dtype() == tensor.Float32 {
		pointwiseRun(op, a, elems[float32](y))
	} else {
		pointwiseRun(op, a, elems[float64](y))
	}
	return y, nil
}

func pointwiseRun[T Float](op *pointwiseOp, a []*tensor.Dense, y []T) {
	x := elems[T](a[0])
	var dy []T
	if op.diff {
		dy = elems[T](a[1])
	}
	parallelFor(len(x), len(x), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			v := float64(x[i])
			if op.diff {
				y[i] = T(float64(dy[i]) * pointwiseDeriv(op.k, op.alpha, op.beta, v))
			} else {
				y[i] = T(pointwiseValue(op.k, op.alpha, op.beta, v))
			}
		}
	})
}

func pointwiseValue(k PointwiseKind, alpha, beta, x float64) float64 {
	switch k {
	case Erf:
		return math.Erf(x)
	case Gelu:
		return 0.5 * x * (1 + math.Erf(x/math.Sqrt2))
	case Sqrt:
		return math.Sqrt(x)
	case PowConst:
		if alpha == 2 {
			return x * x
		}
		return math.Pow(x, alpha)
	case HardSigmoid:
		return min(max(alpha*x+beta, 0), 1)
	case HardSwish:
		return x * min(max(x/6+0.5, 0), 1)
	}
	return math.NaN()
}

// pointwiseDeriv is f′(x). At HardSigmoid's and HardSwish's kinks it takes PyTorch's side
// (the flat one for HardSigmoid, the open interval (−3, 3) for HardSwish).
func pointwiseDeriv(k PointwiseKind, alpha, beta, x float64) float64 {
	switch k {
	case Erf:
		return 2 / math.Sqrt(math.Pi) * math.Exp(-x*x)
	case Gelu:
		return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
	case Sqrt:
		return 0.5 / math.Sqrt(x)
	case PowConst:
		if alpha == 2 {
			return 2 * x
		}
		return alpha * math.Pow(x, alpha-1)
	case HardSigmoid:
		if z := alpha*x + beta; z > 0 && z < 1 {
			return alpha
		}
		return 0
	case HardSwish:
		switch {
		case x <= -3:
			return 0
		case x >= 3:
			return 1
		}
		return x/3 + 0.5
	}
	return math.NaN()
}
