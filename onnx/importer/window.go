package importer

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/onnx"
)

// window is the resolved geometry of a 2-D convolution or pooling window.
type window struct {
	stride, dil [2]int
	pads        [4]int // top, left, bottom, right (ONNX order x1_begin, x2_begin, x1_end, x2_end)
}

// window reads strides, dilations (when allowed), pads and auto_pad for a 2-D window over an
// input of spatial size hw. auto_pad SAME_UPPER/SAME_LOWER give out = ⌈in/stride⌉ with the
// odd extra pad at the end (UPPER) or the start (LOWER); VALID pads nothing.
func (c *nodeCtx) window(hw []int, kernel []int, dilations bool) (window, error) {
	var w window
	two := func(name string) ([2]int, error) {
		v := onnx.AttrInts(c.n, name, []int64{1, 1})
		if len(v) != 2 {
			return [2]int{}, c.errf("%s %v has %d entries, want 2", name, v, len(v))
		}
		if v[0] < 1 || v[1] < 1 {
			return [2]int{}, c.errf("%s %v: want entries ≥ 1", name, v)
		}
		return [2]int{int(v[0]), int(v[1])}, nil
	}
	var err error
	if w.stride, err = two("strides"); err != nil {
		return w, err
	}
	if w.dil, err = two("dilations"); err != nil {
		return w, err
	}
	if !dilations && w.dil != [2]int{1, 1} {
		return w, c.unsupported(fmt.Sprintf("dilations %v", w.dil), "only dilation 1 is supported for this op")
	}
	switch ap := onnx.AttrString(c.n, "auto_pad", "NOTSET"); ap {
	case "NOTSET", "":
		p := onnx.AttrInts(c.n, "pads", []int64{0, 0, 0, 0})
		if len(p) != 4 {
			return w, c.errf("pads %v has %d entries, want 4", p, len(p))
		}
		for i, v := range p {
			if v < 0 {
				return w, c.errf("pads %v: negative padding", p)
			}
			w.pads[i] = int(v)
		}
	case "VALID":
	case "SAME_UPPER", "SAME_LOWER":
		for d := 0; d < 2; d++ {
			out := (hw[d] + w.stride[d] - 1) / w.stride[d]
			total := max(0, (out-1)*w.stride[d]+(kernel[d]-1)*w.dil[d]+1-hw[d])
			small, big := total/2, total-total/2
			if ap == "SAME_UPPER" {
				w.pads[d], w.pads[d+2] = small, big
			} else {
				w.pads[d], w.pads[d+2] = big, small
			}
		}
	default:
		return w, c.unsupported("auto_pad="+ap, "use NOTSET, SAME_UPPER, SAME_LOWER or VALID")
	}
	return w, nil
}
