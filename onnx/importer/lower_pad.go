package importer

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops"
)

var padModes = map[string]ops.PadMode{"constant": ops.PadConstant, "reflect": ops.PadReflect, "edge": ops.PadEdge}

// lowerPad: pads and value are attributes up to opset 10 and inputs (pads, constant_value,
// and from opset 18 axes) from 11. Layout [x1_begin, x2_begin, …, x1_end, x2_end, …];
// negative entries crop.
func lowerPad(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	m := onnx.AttrString(c.n, "mode", "constant")
	mode, ok := padModes[m]
	if !ok {
		return nil, c.unsupported("mode="+m, "use constant, reflect or edge")
	}
	r := x.Dims()
	var pads []int
	val := 0.0
	if c.opset <= 10 {
		for _, p := range onnx.AttrInts(c.n, "pads", nil) {
			pads = append(pads, int(p))
		}
		val = float64(onnx.AttrFloat(c.n, "value", 0))
	} else {
		k, err := c.konstInput(in, 1, "pads")
		if err != nil {
			return nil, err
		}
		pads = k.ints()
		if len(in) > 2 && in[2].present() {
			v, err := c.konstInput(in, 2, "constant_value")
			if err != nil {
				return nil, err
			}
			if v.size() != 1 {
				return nil, c.errf("constant_value has %d elements, want 1", v.size())
			}
			val = v.at(0)
		}
		if len(in) > 3 && in[3].present() {
			ak, err := c.konstInput(in, 3, "axes")
			if err != nil {
				return nil, err
			}
			if pads, err = c.expandPads(pads, ak.ints(), r); err != nil {
				return nil, err
			}
		}
	}
	if len(pads) != 2*r {
		return nil, c.errf("pads %v has %d entries, want %d for an input of rank %d", pads, len(pads), 2*r, r)
	}
	y, err := ops.Pad(x, pads, mode, val)
	return one(y, c.wrap(err))
}

// expandPads turns pads for the listed axes into pads for every axis.
func (c *nodeCtx) expandPads(pads, axes []int, r int) ([]int, error) {
	if len(pads) != 2*len(axes) {
		return nil, c.errf("pads %v has %d entries for axes %v, want %d", pads, len(pads), axes, 2*len(axes))
	}
	full := make([]int, 2*r)
	for j, a := range axes {
		d, err := normAxis(a, r)
		if err != nil {
			return nil, c.errf("axes %v: %v", axes, err)
		}
		full[d], full[d+r] = pads[j], pads[j+len(axes)]
	}
	return full, nil
}

// lowerSlice: Slice of a run-time tensor; the arguments are resolved as for folding and
// handed to ops.Slice as explicit per-axis ranges.
func lowerSlice(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	rs, err := sliceArgs(c, in, x.Shape())
	if err != nil {
		return nil, err
	}
	var starts, ends, axes, steps []int
	for d, r := range rs {
		if r.count == 0 {
			return nil, c.unsupported(fmt.Sprintf("a slice that selects nothing on axis %d of %v", d, x.Shape()), "Gorgonia has no empty tensors")
		}
		if r.start == 0 && r.step == 1 && r.count == x.Shape()[d] {
			continue
		}
		// An end of −1 would count from the back; give the last index + step instead,
		// which ops.Slice clamps to "before the first element" only for negative steps.
		end := r.start + r.count*r.step
		if end < 0 {
			end = -x.Shape()[d] - 1
		}
		starts, ends, axes, steps = append(starts, r.start), append(ends, end), append(axes, d), append(steps, r.step)
	}
	if len(axes) == 0 {
		return []value{nodeValue(x)}, nil
	}
	y, err := ops.Slice(x, starts, ends, axes, steps)
	return one(y, c.wrap(err))
}
