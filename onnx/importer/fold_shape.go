package importer

import (
	"github.com/ssl4dp/ssl4dp/onnx"
)

// Folding of shape-manipulation ops on import-time constants. The argument resolution
// (reshape targets, squeeze axes) is shared with the lowerings of the same ops
// on run-time tensors, so both agree by construction.

// foldShape: Shape (opset 15 adds start/end). Needs only the input's static shape, so it
// folds even when the input is computed at run time.
func foldShape(c *nodeCtx, in []value) ([]value, error) {
	s := in[0].shape()
	r := len(s)
	start, end := int(onnx.AttrInt(c.n, "start", 0)), int(onnx.AttrInt(c.n, "end", int64(r)))
	clamp := func(a int) int {
		if a < 0 {
			a += r
		}
		return min(max(a, 0), r)
	}
	start, end = clamp(start), clamp(end)
	out := []int64{}
	for d := start; d < end; d++ {
		out = append(out, int64(s[d]))
	}
	return []value{konstValue(int64Konst([]int{len(out)}, out...))}, nil
}

// foldSize: Size, the element count, also known for run-time tensors.
func foldSize(c *nodeCtx, in []value) ([]value, error) {
	return []value{konstValue(int64Konst(nil, int64(numel(in[0].shape()))))}, nil
}

func foldIdentity(c *nodeCtx, in []value) ([]value, error) { return []value{in[0]}, nil }

// reshaped returns a copy of k with a new shape (same element order).
func reshaped(k *konst, shape []int) *konst {
	return &konst{dt: k.dt, shape: shape, f: k.f, i: k.i}
}

// reshapeTarget resolves Reshape's shape input: 0 copies the input dimension (unless
// allowzero=1, opset 14), −1 is inferred.
func reshapeTarget(c *nodeCtx, inShape []int, shapeK *konst) ([]int, error) {
	if shapeK == nil {
		return nil, c.errf("Reshape needs its shape input")
	}
	allowZero := onnx.AttrInt(c.n, "allowzero", 0) == 1
	want := shapeK.ints()
	out := make([]int, len(want))
	infer, known := -1, 1
	for d, s := range want {
		switch {
		case s == 0 && !allowZero:
			if d >= len(inShape) {
				return nil, c.errf("shape %v copies dimension %d (0) but the input %v has rank %d", want, d, inShape, len(inShape))
			}
			out[d] = inShape[d]
		case s == -1:
			if infer >= 0 {
				return nil, c.errf("shape %v has more than one -1", want)
			}
			infer = d
			continue
		case s < 0:
			return nil, c.errf("shape %v has a negative entry %d", want, s)
		default:
			out[d] = s
		}
		known *= out[d]
	}
	total := numel(inShape)
	if infer >= 0 {
		if known == 0 || total%known != 0 {
			return nil, c.errf("cannot reshape %v (%d elements) to %v", inShape, total, want)
		}
		out[infer] = total / known
	} else if known != total {
		return nil, c.errf("cannot reshape %v (%d elements) to %v (%d elements)", inShape, total, want, known)
	}
	return out, nil
}

func foldReshape(c *nodeCtx, in []value) ([]value, error) {
	s, err := reshapeTarget(c, in[0].shape(), in[1].k)
	if err != nil {
		return nil, err
	}
	return []value{konstValue(reshaped(in[0].k, s))}, nil
}

// flattenShape is Flatten's 2-D output shape.
func flattenShape(c *nodeCtx, inShape []int) ([]int, error) {
	r := len(inShape)
	axis := int(onnx.AttrInt(c.n, "axis", 1))
	if axis < 0 {
		axis += r
	}
	if axis < 0 || axis > r {
		return nil, c.errf("axis %d is out of range for an input of rank %d", onnx.AttrInt(c.n, "axis", 1), r)
	}
	return []int{numel(inShape[:axis]), numel(inShape[axis:])}, nil
}

func foldFlatten(c *nodeCtx, in []value) ([]value, error) {
	s, err := flattenShape(c, in[0].shape())
	if err != nil {
		return nil, err
	}
	return []value{konstValue(reshaped(in[0].k, s))}, nil
}

// axesArg reads an "axes" list: an attribute before opset `fromOpset`, the input at index
// idx from then on. ok is false when neither is given.
func axesArg(c *nodeCtx, in []value, idx int, fromOpset int64) (axes []int, ok bool, err error) {
	if c.opset < fromOpset {
		a := onnx.Attr(c.n, "axes")
		if a == nil {
			return nil, false, nil
		}
		out := make([]int, len(a.GetInts()))
		for j, v := range a.GetInts() {
			out[j] = int(v)
		}
		return out, true, nil
	}
	if idx >= len(in) || !in[idx].present() {
		return nil, false, nil
	}
	k, err := c.konstInput(in, idx, "axes")
	if err != nil {
		return nil, false, err
	}
	return k.ints(), true, nil
}

// unsqueezeShape inserts 1s at axes (resolved against the output rank).
func unsqueezeShape(c *nodeCtx, in []value) ([]int, error) {
	axes, ok, err := axesArg(c, in, 1, 13)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, c.errf("Unsqueeze needs axes")
	}
	s := in[0].shape()
	r := len(s) + len(axes)
	ins := make([]bool, r)
	for _, a := range axes {
		n, err := normAxis(a, r)
		if err != nil || ins[n] {
			return nil, c.errf("axes %v are invalid or repeated for output rank %d", axes, r)
		}
		ins[n] = true
	}
	out := make([]int, 0, r)
	j := 0
	for d := 0; d < r; d++ {
		if ins[d] {
			out = append(out, 1)
		} else {
			out = append(out, s[j])
			j++
		}
	}
	return out, nil
}

// squeezeShape removes the listed size-1 axes, or every size-1 axis when none are listed.
func squeezeShape(c *nodeCtx, in []value) ([]int, error) {
	axes, ok, err := axesArg(c, in, 1, 13)
	if err != nil {
		return nil, err
	}
	s := in[0].shape()
	drop := make([]bool, len(s))
	if !ok {
		for d, n := range s {
			drop[d] = n == 1
		}
	}
	for _, a := range axes {
		n, err := normAxis(a, len(s))
		if err != nil {
			return nil, c.errf("%v", err)
		}
		if s[n] != 1 {
			return nil, c.errf("cannot squeeze axis %d of shape %v: its size is %d, want 1", a, s, s[n])
		}
		drop[n] = true
	}
	out := []int{}
	for d, n := range s {
		if !drop[d] {
			out = append(out, n)
		}
	}
	return out, nil
}

func foldUnsqueeze(c *nodeCtx, in []value) ([]value, error) {
	s, err := unsqueezeShape(c, in)
	if err != nil {
		return nil, err
	}
	return []value{konstValue(reshaped(in[0].k, s))}, nil
}

func foldSqueeze(c *nodeCtx, in []value) ([]value, error) {
	s, err := squeezeShape(c, in)
	if err != nil {
		return nil, err
	}
	return []value{konstValue(reshaped(in[0].k, s))}, nil
}
