package importer

import (
	"math"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Folding of elementwise ops on import-time constants (numpy broadcasting). Integer
// arithmetic follows onnxruntime's C++ semantics (division truncates toward zero); float
// results are rounded to float32 when the type is FLOAT.

var ceil = math.Ceil

// binaryFloat and binaryInt are the two typed kernels of one arithmetic op.
type arith struct {
	f func(a, b float64) float64
	i func(a, b int64) (int64, bool) // false: undefined (division by zero)
}

var arithOps = map[string]arith{
	"Add": {func(a, b float64) float64 { return a + b }, func(a, b int64) (int64, bool) { return a + b, true }},
	"Sub": {func(a, b float64) float64 { return a - b }, func(a, b int64) (int64, bool) { return a - b, true }},
	"Mul": {func(a, b float64) float64 { return a * b }, func(a, b int64) (int64, bool) { return a * b, true }},
	"Div": {func(a, b float64) float64 { return a / b }, func(a, b int64) (int64, bool) {
		if b == 0 {
			return 0, false
		}
		return a / b, true
	}},
	"Pow": {math.Pow, func(a, b int64) (int64, bool) { return int64(math.Pow(float64(a), float64(b))), true }},
	"Max": {math.Max, func(a, b int64) (int64, bool) { return max(a, b), true }},
	"Min": {math.Min, func(a, b int64) (int64, bool) { return min(a, b), true }},
}

// foldBinary folds Add/Sub/Mul/Div/Pow and the variadic Max/Min/Sum/Mean.
func foldBinary(c *nodeCtx, in []value) ([]value, error) {
	op := c.n.GetOpType()
	name := op
	if op == "Sum" || op == "Mean" {
		name = "Add"
	}
	kern := arithOps[name]
	acc := in[0].k
	for j := 1; j < len(in); j++ {
		b := in[j].k
		if acc.isFloat() != b.isFloat() && op != "Pow" {
			return nil, c.errf("inputs have types %v and %v, want equal types", acc.dt, b.dt)
		}
		outShape, err := broadcastShapes(acc.shape, b.shape)
		if err != nil {
			return nil, c.errf("%v", err)
		}
		out := newKonst(acc.dt, outShape)
		ia, ib := bcastIndexer(acc.shape, outShape), bcastIndexer(b.shape, outShape)
		var bad error
		forEachIndex(outShape, func(k int, idx []int) {
			x, y := ia(idx), ib(idx)
			if out.isFloat() {
				out.f[k] = roundTo(out.dt, kern.f(acc.f[x], b.at(y)))
				return
			}
			v, ok := kern.i(acc.i[x], b.atInt(y))
			if !ok && bad == nil {
				bad = c.errf("integer division by zero")
			}
			out.i[k] = v
		})
		if bad != nil {
			return nil, bad
		}
		acc = out
	}
	if op == "Mean" {
		if !acc.isFloat() {
			return nil, c.errf("Mean of integer type %v", acc.dt)
		}
		for k := range acc.f {
			acc.f[k] = roundTo(acc.dt, acc.f[k]/float64(len(in)))
		}
	}
	return []value{konstValue(acc)}, nil
}

var unaryOps = map[string]func(float64) float64{
	"Floor":      math.Floor,
	"Ceil":       math.Ceil,
	"Neg":        func(x float64) float64 { return -x },
	"Abs":        math.Abs,
	"Sqrt":       math.Sqrt,
	"Reciprocal": func(x float64) float64 { return 1 / x },
	"Exp":        math.Exp,
	"Log":        math.Log,
	"Relu":       func(x float64) float64 { return math.Max(x, 0) },
	"Sigmoid":    func(x float64) float64 { return 1 / (1 + math.Exp(-x)) },
	"Round":      math.RoundToEven,
}

func foldUnary(c *nodeCtx, in []value) ([]value, error) {
	k := in[0].k
	f := unaryOps[c.n.GetOpType()]
	out := newKonst(k.dt, k.shape)
	for j := 0; j < k.size(); j++ {
		if k.isFloat() {
			out.f[j] = roundTo(k.dt, f(k.f[j]))
			continue
		}
		switch c.n.GetOpType() {
		case "Neg":
			out.i[j] = -k.i[j]
		case "Abs":
			out.i[j] = max(k.i[j], -k.i[j])
		case "Relu":
			out.i[j] = max(k.i[j], 0)
		case "Floor", "Ceil", "Round":
			out.i[j] = k.i[j]
		default:
			return nil, c.errf("%s of integer type %v", c.n.GetOpType(), k.dt)
		}
	}
	return []value{konstValue(out)}, nil
}

var compareOps = map[string]func(a, b float64) bool{
	"Less":           func(a, b float64) bool { return a < b },
	"LessOrEqual":    func(a, b float64) bool { return a <= b },
	"Greater":        func(a, b float64) bool { return a > b },
	"GreaterOrEqual": func(a, b float64) bool { return a >= b },
	"Equal":          func(a, b float64) bool { return a == b },
	"And":            func(a, b float64) bool { return a != 0 && b != 0 },
	"Or":             func(a, b float64) bool { return a != 0 || b != 0 },
	"Xor":            func(a, b float64) bool { return (a != 0) != (b != 0) },
}

// foldCompare folds comparisons and logical ops; the result is BOOL. Integers compare
// exactly (every int64 the shape subgraphs produce is far below 2^53).
func foldCompare(c *nodeCtx, in []value) ([]value, error) {
	a, b := in[0].k, in[1].k
	outShape, err := broadcastShapes(a.shape, b.shape)
	if err != nil {
		return nil, c.errf("%v", err)
	}
	f := compareOps[c.n.GetOpType()]
	out := newKonst(pb.TensorProto_BOOL, outShape)
	ia, ib := bcastIndexer(a.shape, outShape), bcastIndexer(b.shape, outShape)
	forEachIndex(outShape, func(k int, idx []int) {
		if f(a.at(ia(idx)), b.at(ib(idx))) {
			out.i[k] = 1
		}
	})
	return []value{konstValue(out)}, nil
}

func foldNot(c *nodeCtx, in []value) ([]value, error) {
	k := in[0].k
	out := newKonst(pb.TensorProto_BOOL, k.shape)
	for j := range out.i {
		if k.at(j) == 0 {
			out.i[j] = 1
		}
	}
	return []value{konstValue(out)}, nil
}

func foldWhere(c *nodeCtx, in []value) ([]value, error) {
	cond, x, y := in[0].k, in[1].k, in[2].k
	if x.dt != y.dt {
		return nil, c.errf("X has type %v and Y %v, want equal types", x.dt, y.dt)
	}
	outShape, err := broadcastShapes(cond.shape, x.shape, y.shape)
	if err != nil {
		return nil, c.errf("%v", err)
	}
	out := newKonst(x.dt, outShape)
	ic, ix, iy := bcastIndexer(cond.shape, outShape), bcastIndexer(x.shape, outShape), bcastIndexer(y.shape, outShape)
	forEachIndex(outShape, func(k int, idx []int) {
		if cond.at(ic(idx)) != 0 {
			copyElem(out, k, x, ix(idx))
		} else {
			copyElem(out, k, y, iy(idx))
		}
	})
	return []value{konstValue(out)}, nil
}

// castTarget reads Cast's "to" and rejects types the importer does not compute in.
func castTarget(c *nodeCtx) (pb.TensorProto_DataType, error) {
	to := pb.TensorProto_DataType(onnx.AttrInt(c.n, "to", 0))
	if !isFloatType(to) && !isIntType(to) && to != pb.TensorProto_BOOL {
		return 0, &UnsupportedError{Node: nodeName(c.n), Op: "Cast", Opset: c.opset, What: "cast to " + to.String(),
			Hint: "only float, integer and bool tensors are supported"}
	}
	if to == pb.TensorProto_FLOAT16 || to == pb.TensorProto_BFLOAT16 {
		return 0, &UnsupportedError{Node: nodeName(c.n), Op: "Cast", Opset: c.opset, What: "cast to " + to.String(),
			Hint: "the importer computes in float32 or float64; 16-bit floats are not supported"}
	}
	return to, nil
}

func foldCast(c *nodeCtx, in []value) ([]value, error) {
	to, err := castTarget(c)
	if err != nil {
		return nil, err
	}
	k := in[0].k
	out := newKonst(to, k.shape)
	for j := 0; j < k.size(); j++ {
		v := k.at(j)
		if !out.isFloat() && k.isFloat() {
			v = math.Trunc(v) // C conversion: toward zero
		}
		out.set(j, v)
	}
	return []value{konstValue(out)}, nil
}
