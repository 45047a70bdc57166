package graphs

import (
	"fmt"
	"slices"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// A rule infers one node's output from its inputs (nil for an omitted optional input) and
// counts its multiply-accumulates. Rules cover the ops this package emits, with the
// attribute semantics of opset 13.
type rule func(n *pb.NodeProto, in []*value) (*value, int64, error)

var rules map[string]rule

func init() {
	rules = map[string]rule{
		"Conv": inferConv, "BatchNormalization": inferBatchNorm, "MaxPool": inferMaxPool,
		"GlobalAveragePool": inferGlobalPool, "Flatten": inferFlatten, "Gemm": inferGemm,
		"MatMul": inferMatMul, "Concat": inferConcat, "Resize": inferResize, "Shape": inferShape,
		"Gather": inferGather, "Slice": inferSlice, "Unsqueeze": inferUnsqueeze, "Squeeze": inferSqueeze,
		"Cast": inferCast, "Range": inferRange, "ReduceSum": inferReduceSum, "Reshape": inferReshape,
		"Transpose": inferTranspose, "Constant": inferConstant,
		"Relu": same, "Softmax": same, "Floor": same, "Ceil": same, "Identity": same,
	}
	for _, op := range []string{"Add", "Sub", "Mul", "Div", "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Equal", "And", "Or"} {
		rules[op] = elementwise(op)
	}
}

func need(in []*value, k int) error {
	if len(in) < k {
		return fmt.Errorf("has %d inputs, want at least %d", len(in), k)
	}
	for i := 0; i < k; i++ {
		if in[i] == nil {
			return fmt.Errorf("input %d is missing", i)
		}
	}
	return nil
}

func prod(s []int) int {
	p := 1
	for _, d := range s {
		p *= d
	}
	return p
}

func same(_ *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 1); err != nil {
		return nil, 0, err
	}
	return &value{shape: slices.Clone(in[0].shape), isInt: in[0].isInt, vals: in[0].vals}, 0, nil
}

// ints reads an INTS attribute as ints, defaulting to def.
func ints(n *pb.NodeProto, name string, def ...int64) []int {
	v := onnx.AttrInts(n, name, def)
	out := make([]int, len(v))
	for i, x := range v {
		out[i] = int(x)
	}
	return out
}

// window is the output length of a conv or pool along one axis.
func window(in, k, stride, padBegin, padEnd, dil int) (int, error) {
	span := dil*(k-1) + 1
	if in+padBegin+padEnd < span || stride <= 0 {
		return 0, fmt.Errorf("input length %d (padded %d) is shorter than the window %d", in, in+padBegin+padEnd, span)
	}
	return (in+padBegin+padEnd-span)/stride + 1, nil
}

func inferConv(n *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 2); err != nil {
		return nil, 0, err
	}
	x, w := in[0].shape, in[1].shape
	if len(x) != 4 || len(w) != 4 {
		return nil, 0, fmt.Errorf("input %v and weight %v; want 4-D NCHW", x, w)
	}
	g := int(onnx.AttrInt(n, "group", 1))
	if x[1] != w[1]*g || w[0]%g != 0 {
		return nil, 0, fmt.Errorf("input has %d channels, want %d (weight %v, %d groups)", x[1], w[1]*g, w, g)
	}
	if len(in) > 2 && in[2] != nil && !slices.Equal(in[2].shape, []int{w[0]}) {
		return nil, 0, fmt.Errorf("bias shape %v, want [%d]", in[2].shape, w[0])
	}
	k := ints(n, "kernel_shape", int64(w[2]), int64(w[3]))
	if k[0] != w[2] || k[1] != w[3] {
		return nil, 0, fmt.Errorf("kernel_shape %v disagrees with weight %v", k, w)
	}
	s, p, d := ints(n, "strides", 1, 1), ints(n, "pads", 0, 0, 0, 0), ints(n, "dilations", 1, 1)
	if onnx.AttrString(n, "auto_pad", "NOTSET") != "NOTSET" {
		return nil, 0, fmt.Errorf("auto_pad is not supported by the analysis")
	}
	h, err := window(x[2], w[2], s[0], p[0], p[2], d[0])
	if err != nil {
		return nil, 0, err
	}
	wd, err := window(x[3], w[3], s[1], p[1], p[3], d[1])
	if err != nil {
		return nil, 0, err
	}
	return &value{shape: []int{x[0], w[0], h, wd}}, int64(x[0]) * int64(w[0]*h*wd) * int64(w[1]*w[2]*w[3]), nil
}

func inferBatchNorm(_ *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 5); err != nil {
		return nil, 0, err
	}
	x := in[0].shape
	if len(x) < 2 {
		return nil, 0, fmt.Errorf("input %v; want rank ≥ 2", x)
	}
	for i, what := range []string{"scale", "bias", "mean", "var"} {
		if !slices.Equal(in[i+1].shape, []int{x[1]}) {
			return nil, 0, fmt.Errorf("%s shape %v, want [%d] for input %v", what, in[i+1].shape, x[1], x)
		}
	}
	return &value{shape: slices.Clone(x)}, 0, nil
}

func inferMaxPool(n *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 1); err != nil {
		return nil, 0, err
	}
	x := in[0].shape
	if len(x) != 4 {
		return nil, 0, fmt.Errorf("input %v; want 4-D NCHW", x)
	}
	if onnx.AttrInt(n, "ceil_mode", 0) != 0 || onnx.AttrString(n, "auto_pad", "NOTSET") != "NOTSET" {
		return nil, 0, fmt.Errorf("ceil_mode and auto_pad are not supported by the analysis")
	}
	k, s, p, d := ints(n, "kernel_shape"), ints(n, "strides", 1, 1), ints(n, "pads", 0, 0, 0, 0), ints(n, "dilations", 1, 1)
	if len(k) != 2 {
		return nil, 0, fmt.Errorf("kernel_shape %v; want 2 values", k)
	}
	h, err := window(x[2], k[0], s[0], p[0], p[2], d[0])
	if err != nil {
		return nil, 0, err
	}
	w, err := window(x[3], k[1], s[1], p[1], p[3], d[1])
	if err != nil {
		return nil, 0, err
	}
	return &value{shape: []int{x[0], x[1], h, w}}, 0, nil
}

func inferGlobalPool(_ *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 1); err != nil {
		return nil, 0, err
	}
	x := in[0].shape
	if len(x) < 3 {
		return nil, 0, fmt.Errorf("input %v; want rank ≥ 3", x)
	}
	out := slices.Clone(x)
	for i := 2; i < len(out); i++ {
		out[i] = 1
	}
	return &value{shape: out}, 0, nil
}

func inferFlatten(n *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 1); err != nil {
		return nil, 0, err
	}
	x := in[0].shape
	axis := int(onnx.AttrInt(n, "axis", 1))
	if axis < 0 {
		axis += len(x)
	}
	if axis < 0 || axis > len(x) {
		return nil, 0, fmt.Errorf("axis %d out of range for %v", axis, x)
	}
	return &value{shape: []int{prod(x[:axis]), prod(x[axis:])}, isInt: in[0].isInt}, 0, nil
}

func inferGemm(n *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 2); err != nil {
		return nil, 0, err
	}
	a, b := in[0].shape, in[1].shape
	if len(a) != 2 || len(b) != 2 {
		return nil, 0, fmt.Errorf("inputs %v, %v; want 2-D", a, b)
	}
	m, k := a[0], a[1]
	if onnx.AttrInt(n, "transA", 0) != 0 {
		m, k = k, m
	}
	kb, nn := b[0], b[1]
	if onnx.AttrInt(n, "transB", 0) != 0 {
		kb, nn = nn, kb
	}
	if k != kb {
		return nil, 0, fmt.Errorf("input has %d features, weight %v wants %d", k, b, kb)
	}
	if len(in) > 2 && in[2] != nil {
		if _, err := broadcast(in[2].shape, []int{m, nn}); err != nil || len(in[2].shape) > 2 {
			return nil, 0, fmt.Errorf("bias shape %v does not broadcast to [%d %d]", in[2].shape, m, nn)
		}
	}
	return &value{shape: []int{m, nn}}, int64(m) * int64(nn) * int64(k), nil
}

func inferMatMul(_ *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 2); err != nil {
		return nil, 0, err
	}
	a, b := in[0].shape, in[1].shape
	if len(a) < 2 || len(b) < 2 {
		return nil, 0, fmt.Errorf("inputs %v, %v; want rank ≥ 2", a, b)
	}
	m, k, kb, nn := a[len(a)-2], a[len(a)-1], b[len(b)-2], b[len(b)-1]
	if k != kb {
		return nil, 0, fmt.Errorf("inner dimensions differ: %v · %v", a, b)
	}
	batch, err := broadcast(a[:len(a)-2], b[:len(b)-2])
	if err != nil {
		return nil, 0, err
	}
	out := append(batch, m, nn)
	return &value{shape: out}, int64(prod(batch)) * int64(m) * int64(nn) * int64(k), nil
}

func inferConcat(n *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 1); err != nil {
		return nil, 0, err
	}
	r := len(in[0].shape)
	axis := int(onnx.AttrInt(n, "axis", 0))
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis >= r {
		return nil, 0, fmt.Errorf("axis %d out of range for rank %d", axis, r)
	}
	out := slices.Clone(in[0].shape)
	out[axis] = 0
	known := in[0].isInt && r == 1
	var vals []int64
	for i, v := range in {
		if v == nil || len(v.shape) != r {
			return nil, 0, fmt.Errorf("input %d is missing or has rank ≠ %d", i, r)
		}
		for d := range r {
			if d != axis && v.shape[d] != out[d] {
				return nil, 0, fmt.Errorf("input %d has shape %v, want %v except on axis %d", i, v.shape, in[0].shape, axis)
			}
		}
		out[axis] += v.shape[axis]
		known = known && v.vals != nil
		vals = append(vals, v.vals...)
	}
	if !known {
		vals = nil
	}
	return &value{shape: out, isInt: in[0].isInt, vals: vals}, 0, nil
}

func inferResize(_ *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 1); err != nil {
		return nil, 0, err
	}
	if len(in) < 4 || in[3] == nil {
		return nil, 0, fmt.Errorf("only Resize with a sizes input is supported by the analysis")
	}
	if in[3].vals == nil {
		return nil, 0, fmt.Errorf("sizes are not computable from the graph's constants and input shapes")
	}
	if len(in[3].vals) != len(in[0].shape) {
		return nil, 0, fmt.Errorf("sizes %v for an input of rank %d", in[3].vals, len(in[0].shape))
	}
	out := make([]int, len(in[3].vals))
	for i, v := range in[3].vals {
		out[i] = int(v)
	}
	return &value{shape: out}, 0, nil
}

func inferShape(_ *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 1); err != nil {
		return nil, 0, err
	}
	vals := make([]int64, len(in[0].shape))
	for i, d := range in[0].shape {
		vals[i] = int64(d)
	}
	return &value{shape: []int{len(vals)}, isInt: true, vals: vals}, 0, nil
}

func inferGather(n *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 2); err != nil {
		return nil, 0, err
	}
	data, idx := in[0], in[1]
	axis := int(onnx.AttrInt(n, "axis", 0))
	if axis < 0 {
		axis += len(data.shape)
	}
	if axis < 0 || axis >= len(data.shape) {
		return nil, 0, fmt.Errorf("axis %d out of range for %v", axis, data.shape)
	}
	out := append(append(slices.Clone(data.shape[:axis]), idx.shape...), data.shape[axis+1:]...)
	v := &value{shape: out, isInt: data.isInt}
	if data.vals != nil && idx.vals != nil && len(data.shape) == 1 {
		for _, i := range idx.vals {
			if i < 0 {
				i += int64(len(data.vals))
			}
			if i < 0 || i >= int64(len(data.vals)) {
				return nil, 0, fmt.Errorf("index %d out of range for %d values", i, len(data.vals))
			}
			v.vals = append(v.vals, data.vals[i])
		}
	}
	return v, 0, nil
}

// constInts returns an input's known integer values, or an error naming it.
func constInts(in []*value, i int, what string) ([]int64, error) {
	if i >= len(in) || in[i] == nil {
		return nil, nil
	}
	if !in[i].isInt || in[i].vals == nil {
		return nil, fmt.Errorf("%s (input %d) is not a known integer constant", what, i)
	}
	return in[i].vals, nil
}

func inferSlice(_ *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 3); err != nil {
		return nil, 0, err
	}
	starts, err1 := constInts(in, 1, "starts")
	ends, err2 := constInts(in, 2, "ends")
	axes, err3 := constInts(in, 3, "axes")
	steps, err4 := constInts(in, 4, "steps")
	for _, err := range []error{err1, err2, err3, err4} {
		if err != nil {
			return nil, 0, err
		}
	}
	x := in[0]
	out := slices.Clone(x.shape)
	type span struct{ start, end, step int }
	spans := make([]span, len(out))
	for d := range spans {
		spans[d] = span{0, out[d], 1}
	}
	for i := range starts {
		axis := i
		if axes != nil {
			axis = int(axes[i])
		}
		if axis < 0 {
			axis += len(out)
		}
		if axis < 0 || axis >= len(out) || i >= len(ends) {
			return nil, 0, fmt.Errorf("slice %d (axis %d) does not fit input %v", i, axis, x.shape)
		}
		step := 1
		if steps != nil {
			step = int(steps[i])
		}
		if step != 1 {
			return nil, 0, fmt.Errorf("step %d; the analysis supports step 1", step)
		}
		clamp := func(v int64) int {
			if v < 0 {
				v += int64(x.shape[axis])
			}
			return int(min(max(v, 0), int64(x.shape[axis])))
		}
		s, e := clamp(starts[i]), clamp(ends[i])
		spans[axis] = span{s, max(e, s), 1}
		out[axis] = max(e-s, 0)
	}
	v := &value{shape: out, isInt: x.isInt}
	if x.vals != nil && len(out) == 1 {
		v.vals = slices.Clone(x.vals[spans[0].start:spans[0].end])
	}
	return v, 0, nil
}

func inferUnsqueeze(_ *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 2); err != nil {
		return nil, 0, err
	}
	axes, err := constInts(in, 1, "axes")
	if err != nil {
		return nil, 0, err
	}
	r := len(in[0].shape) + len(axes)
	out := make([]int, r)
	ones := map[int]bool{}
	for _, a := range axes {
		if a < 0 {
			a += int64(r)
		}
		if a < 0 || a >= int64(r) || ones[int(a)] {
			return nil, 0, fmt.Errorf("axes %v invalid for output rank %d", axes, r)
		}
		ones[int(a)] = true
	}
	j := 0
	for i := range out {
		if ones[i] {
			out[i] = 1
		} else {
			out[i] = in[0].shape[j]
			j++
		}
	}
	return &value{shape: out, isInt: in[0].isInt, vals: in[0].vals}, 0, nil
}

func inferSqueeze(_ *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 1); err != nil {
		return nil, 0, err
	}
	axes, err := constInts(in, 1, "axes")
	if err != nil {
		return nil, 0, err
	}
	x := in[0].shape
	drop := map[int]bool{}
	for _, a := range axes {
		if a < 0 {
			a += int64(len(x))
		}
		if a < 0 || a >= int64(len(x)) || x[a] != 1 {
			return nil, 0, fmt.Errorf("cannot squeeze axis %d of %v", a, x)
		}
		drop[int(a)] = true
	}
	var out []int
	for i, d := range x {
		if !(drop[i] || (axes == nil && d == 1)) {
			out = append(out, d)
		}
	}
	return &value{shape: out, isInt: in[0].isInt, vals: in[0].vals}, 0, nil
}

func isIntType(dt pb.TensorProto_DataType) bool {
	switch dt {
	case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE, pb.TensorProto_FLOAT16, pb.TensorProto_BFLOAT16:
		return false
	}
	return true
}

func inferCast(n *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 1); err != nil {
		return nil, 0, err
	}
	isInt := isIntType(pb.TensorProto_DataType(onnx.AttrInt(n, "to", 0)))
	v := &value{shape: slices.Clone(in[0].shape), isInt: isInt}
	if isInt && in[0].isInt {
		v.vals = in[0].vals
	}
	return v, 0, nil
}

func inferRange(_ *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 3); err != nil {
		return nil, 0, err
	}
	var sld [3]int64
	for i, what := range []string{"start", "limit", "delta"} {
		v, err := constInts(in, i, what)
		if err != nil {
			return nil, 0, err
		}
		if len(v) != 1 {
			return nil, 0, fmt.Errorf("%s has %d values, want a scalar", what, len(v))
		}
		sld[i] = v[0]
	}
	if sld[2] == 0 {
		return nil, 0, fmt.Errorf("delta is 0")
	}
	var vals []int64
	for x := sld[0]; (sld[2] > 0 && x < sld[1]) || (sld[2] < 0 && x > sld[1]); x += sld[2] {
		vals = append(vals, x)
	}
	return &value{shape: []int{len(vals)}, isInt: true, vals: vals}, 0, nil
}

func inferReduceSum(n *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 1); err != nil {
		return nil, 0, err
	}
	axes, err := constInts(in, 1, "axes")
	if err != nil {
		return nil, 0, err
	}
	x := in[0].shape
	keep := onnx.AttrInt(n, "keepdims", 1) != 0
	red := map[int]bool{}
	for _, a := range axes {
		if a < 0 {
			a += int64(len(x))
		}
		if a < 0 || a >= int64(len(x)) {
			return nil, 0, fmt.Errorf("axis %d out of range for %v", a, x)
		}
		red[int(a)] = true
	}
	out := []int{}
	for i, d := range x {
		switch {
		case !red[i] && axes != nil:
			out = append(out, d)
		case keep:
			out = append(out, 1)
		}
	}
	return &value{shape: out, isInt: in[0].isInt}, 0, nil
}

func inferReshape(_ *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 2); err != nil {
		return nil, 0, err
	}
	target, err := constInts(in, 1, "shape")
	if err != nil {
		return nil, 0, err
	}
	x := in[0].shape
	out := make([]int, len(target))
	infer := -1
	for i, t := range target {
		switch {
		case t == 0:
			if i >= len(x) {
				return nil, 0, fmt.Errorf("shape %v copies dimension %d of %v", target, i, x)
			}
			out[i] = x[i]
		case t == -1 && infer < 0:
			infer = i
		case t > 0:
			out[i] = int(t)
		default:
			return nil, 0, fmt.Errorf("invalid target shape %v", target)
		}
	}
	if infer >= 0 {
		rest := 1
		for i, d := range out {
			if i != infer {
				rest *= d
			}
		}
		if rest == 0 || prod(x)%rest != 0 {
			return nil, 0, fmt.Errorf("cannot reshape %v to %v", x, target)
		}
		out[infer] = prod(x) / rest
	}
	if prod(out) != prod(x) {
		return nil, 0, fmt.Errorf("cannot reshape %v (%d values) to %v", x, prod(x), out)
	}
	return &value{shape: out, isInt: in[0].isInt, vals: in[0].vals}, 0, nil
}

func inferTranspose(n *pb.NodeProto, in []*value) (*value, int64, error) {
	if err := need(in, 1); err != nil {
		return nil, 0, err
	}
	x := in[0].shape
	perm := ints(n, "perm")
	if perm == nil {
		for i := len(x) - 1; i >= 0; i-- {
			perm = append(perm, i)
		}
	}
	if len(perm) != len(x) {
		return nil, 0, fmt.Errorf("perm %v for input %v", perm, x)
	}
	out := make([]int, len(x))
	for i, p := range perm {
		if p < 0 || p >= len(x) {
			return nil, 0, fmt.Errorf("perm %v for input %v", perm, x)
		}
		out[i] = x[p]
	}
	return &value{shape: out, isInt: in[0].isInt}, 0, nil
}

func inferConstant(n *pb.NodeProto, _ []*value) (*value, int64, error) {
	t := onnx.AttrTensor(n, "value")
	if t == nil {
		return nil, 0, fmt.Errorf("only a tensor 'value' attribute is supported")
	}
	v := &value{shape: onnx.Shape(t)}
	if isIntType(pb.TensorProto_DataType(t.GetDataType())) {
		vals, err := onnx.Int64s(t)
		if err != nil {
			return nil, 0, err
		}
		v.isInt, v.vals = true, vals
	}
	return v, 0, nil
}

// broadcast is numpy's broadcasting of two shapes.
func broadcast(a, b []int) ([]int, error) {
	r := max(len(a), len(b))
	out := make([]int, r)
	for i := range r {
		da, db := 1, 1
		if j := i - (r - len(a)); j >= 0 {
			da = a[j]
		}
		if j := i - (r - len(b)); j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, fmt.Errorf("shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// at returns the element of a broadcast operand (shape s, values v) at the output's flat
// index k (output shape out).
func at(v []int64, s, out []int, k int) int64 {
	idx, stride := 0, 1
	for i := len(out) - 1; i >= 0; i-- {
		c := k % out[i]
		k /= out[i]
		if j := i - (len(out) - len(s)); j >= 0 {
			if s[j] != 1 {
				idx += c * stride
			}
			stride *= s[j]
		}
	}
	return v[idx]
}

func elementwise(op string) rule {
	compare := map[string]bool{"Less": true, "LessOrEqual": true, "Greater": true, "GreaterOrEqual": true, "Equal": true, "And": true, "Or": true}[op]
	b2i := func(c bool) int64 {
		if c {
			return 1
		}
		return 0
	}
	return func(_ *pb.NodeProto, in []*value) (*value, int64, error) {
		if err := need(in, 2); err != nil {
			return nil, 0, err
		}
		a, b := in[0], in[1]
		out, err := broadcast(a.shape, b.shape)
		if err != nil {
			return nil, 0, err
		}
		v := &value{shape: out, isInt: compare || a.isInt}
		if !a.isInt || !b.isInt || a.vals == nil || b.vals == nil {
			return v, 0, nil
		}
		v.vals = make([]int64, prod(out))
		for k := range v.vals {
			x, y := at(a.vals, a.shape, out, k), at(b.vals, b.shape, out, k)
			var r int64
			switch op {
			case "Add":
				r = x + y
			case "Sub":
				r = x - y
			case "Mul":
				r = x * y
			case "Div":
				if y == 0 {
					return nil, 0, fmt.Errorf("integer division by zero")
				}
				r = x / y // ONNX integer Div truncates, as Go does
			case "Less":
				r = b2i(x < y)
			case "LessOrEqual":
				r = b2i(x <= y)
			case "Greater":
				r = b2i(x > y)
			case "GreaterOrEqual":
				r = b2i(x >= y)
			case "Equal":
				r = b2i(x == y)
			case "And":
				r = b2i(x != 0 && y != 0)
			case "Or":
				r = b2i(x != 0 || y != 0)
			}
			v.vals[k] = r
		}
		return v, 0, nil
	}
}
