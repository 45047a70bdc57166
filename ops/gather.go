package ops

import (
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// indexMap describes a tensor whose every element is read from another tensor at a position
// that decomposes per axis: element o = (o₀, o₁, …) comes from flat offset Σᵢ maps[i][oᵢ] of
// the source, or is a fill value when any maps[i][oᵢ] is negative. Pad (reflect/edge/constant,
// with crops), Slice (any steps), Transpose and Concat are all such maps; each op's gradient is
// the matching scatter-add, so forward and backward share one piece of index code.
type indexMap struct {
	shape []int   // shape of the gathered tensor; len(maps[i]) == shape[i]
	maps  [][]int // source offsets (already multiplied by the source's strides), -1 = fill
}

// rows calls fn once per innermost row of the gathered tensor, in row-major order: pos is the
// row's first position, base the source offset of its outer indices, valid false when an
// outer index is a fill. The kernels loop over maps[last] themselves, so the per-element cost
// is a slice read, not a call.
func (m indexMap) rows(fn func(pos, base int, valid bool)) {
	last := len(m.maps) - 1
	rowLen := len(m.maps[last])
	pos := 0
	var rec func(ax, base int, valid bool)
	rec = func(ax, base int, valid bool) {
		if ax == last {
			fn(pos, base, valid)
			pos += rowLen
			return
		}
		for _, o := range m.maps[ax] {
			rec(ax+1, base+o, valid && o >= 0)
		}
	}
	rec(0, 0, true)
}

// gatherInto fills dst (contiguous, m.shape) from src, writing fill where the map says so.
func gatherInto[T Float](m indexMap, dst, src []T, fill T) {
	inner := m.maps[len(m.maps)-1]
	m.rows(func(pos, base int, valid bool) {
		row := dst[pos : pos+len(inner)]
		if !valid {
			for j := range row {
				row[j] = fill
			}
			return
		}
		for j, o := range inner {
			if o < 0 {
				row[j] = fill
			} else {
				row[j] = src[base+o]
			}
		}
	})
}

// scatterAdd is gatherInto's adjoint: dst[off] += src[pos] for every non-fill position.
// Several positions may share an offset (reflect and edge padding), hence the sum.
func scatterAdd[T Float](m indexMap, dst, src []T) {
	inner := m.maps[len(m.maps)-1]
	m.rows(func(pos, base int, valid bool) {
		if !valid {
			return
		}
		row := src[pos : pos+len(inner)]
		for j, o := range inner {
			if o >= 0 {
				dst[base+o] += row[j]
			}
		}
	})
}

// gatherValue runs gatherInto on a run-time value that must have shape in.
func gatherValue(what string, buf *outBuf, m indexMap, in tensor.Shape, v G.Value, fill float64) (G.Value, error) {
	if err := checkRunShape(what, v, in); err != nil {
		return nil, err
	}
	if e, t, err := valuesOn(what, v); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return gatherDevice(what, e, buf, m, t[0], float32(fill))
	}
	f32, err := isFloat32(what, v)
	if err != nil {
		return nil, err
	}
	if f32 {
		return gatherT[float32](what, buf, m, v, float32(fill))
	}
	return gatherT[float64](what, buf, m, v, fill)
}

func gatherT[T Float](what string, buf *outBuf, m indexMap, v G.Value, fill T) (G.Value, error) {
	src, err := valueData[T](v)
	if err != nil {
		return nil, errorf("%s: %w", what, err)
	}
	shape := tensor.Shape(m.shape)
	out, dst := resultSlice[T](buf, shape)
	gatherInto(m, dst, src, fill) // writes every element
	return outValue(out, shape, dst), nil
}

// scatterValue runs scatterAdd of g (shape m.shape) into a zero tensor of shape out.
func scatterValue(what string, buf *outBuf, m indexMap, out tensor.Shape, g G.Value) (G.Value, error) {
	if err := checkRunShape(what, g, tensor.Shape(m.shape)); err != nil {
		return nil, err
	}
	if e, t, err := valuesOn(what, g); err != nil || e != nil {
		if err != nil {
			return nil, err
		}
		return scatterDevice(what, e, buf, m, out, t[0])
	}
	f32, err := isFloat32(what, g)
	if err != nil {
		return nil, err
	}
	if f32 {
		return scatterT[float32](what, buf, m, out, g)
	}
	return scatterT[float64](what, buf, m, out, g)
}

func scatterT[T Float](what string, buf *outBuf, m indexMap, out tensor.Shape, g G.Value) (G.Value, error) {
	src, err := valueData[T](g)
	if err != nil {
		return nil, errorf("%s: %w", what, err)
	}
	res, dst := resultSlice[T](buf, out)
	clear(dst) // scatterAdd accumulates
	scatterAdd(m, dst, src)
	return outValue(res, out, dst), nil
}
