package importer

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops"
)

var coordModes = map[string]ops.CoordMode{
	"half_pixel":         ops.HalfPixel,
	"pytorch_half_pixel": ops.PytorchHalfPixel,
	"align_corners":      ops.AlignCorners,
	"asymmetric":         ops.Asymmetric,
}

var nearestModes = map[string]ops.NearestMode{
	"round_prefer_floor": ops.RoundPreferFloor,
	"round_prefer_ceil":  ops.RoundPreferCeil,
	"floor":              ops.Floor,
	"ceil":               ops.Ceil,
}

// lowerResize: Resize of the last two axes, linear or nearest. Opset 10 takes (X, scales)
// with the semantics ONNX's version converter gives it at 11 (asymmetric coordinates,
// floor rounding); from opset 11 (X, roi, scales, sizes) with the coordinate transform and
// nearest rounding as attributes. A model gives either scales or sizes (PyTorch's exporter
// passes an empty scales tensor beside sizes).
func lowerResize(c *nodeCtx, in []value) ([]value, error) {
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	var mode ops.ResizeMode
	switch m := onnx.AttrString(c.n, "mode", "nearest"); m {
	case "nearest":
		mode = ops.Nearest
	case "linear":
		mode = ops.Linear
	default:
		return nil, c.unsupported("mode="+m, "use mode linear or nearest")
	}
	coord, nearest := ops.Asymmetric, ops.Floor
	scalesAt, sizesAt := 1, -1
	if c.opset >= 11 {
		scalesAt, sizesAt = 2, 3
		cm := onnx.AttrString(c.n, "coordinate_transformation_mode", "half_pixel")
		var ok bool
		if coord, ok = coordModes[cm]; !ok {
			return nil, c.unsupported("coordinate_transformation_mode="+cm, "use half_pixel, pytorch_half_pixel, align_corners or asymmetric")
		}
		nm := onnx.AttrString(c.n, "nearest_mode", "round_prefer_floor")
		if nearest, ok = nearestModes[nm]; !ok {
			return nil, c.unsupported("nearest_mode="+nm, "use round_prefer_floor, round_prefer_ceil, floor or ceil")
		}
		for _, a := range []struct {
			name string
			def  int64
		}{{"exclude_outside", 0}, {"antialias", 0}} {
			if v := onnx.AttrInt(c.n, a.name, a.def); v != a.def {
				return nil, c.unsupported(fmt.Sprintf("attribute %s=%d", a.name, v), "only the default is supported")
			}
		}
		if onnx.Attr(c.n, "axes") != nil {
			return nil, c.unsupported("attribute axes", "give scales or sizes for every axis")
		}
		if p := onnx.AttrString(c.n, "keep_aspect_ratio_policy", "stretch"); p != "stretch" {
			return nil, c.unsupported("keep_aspect_ratio_policy="+p, "only stretch is supported")
		}
	}
	r := x.Dims()
	if r < 2 {
		return nil, c.errf("input %v has rank %d, want at least 2", x.Shape(), r)
	}
	given := func(i int) bool { return i >= 0 && i < len(in) && in[i].present() && numel(in[i].shape()) > 0 }
	switch {
	case given(sizesAt):
		k, err := c.konstInput(in, sizesAt, "sizes")
		if err != nil {
			return nil, err
		}
		sizes := k.ints()
		if len(sizes) != r {
			return nil, c.errf("sizes %v has %d entries for an input of rank %d", sizes, len(sizes), r)
		}
		for d := 0; d < r-2; d++ {
			if sizes[d] != x.Shape()[d] {
				return nil, c.unsupported(fmt.Sprintf("sizes %v for input %v (resizing axis %d)", sizes, x.Shape(), d), "only the last two axes can be resized")
			}
		}
		y, err := ops.Resize2D(x, sizes[r-2], sizes[r-1], mode, coord, nearest)
		return one(y, c.wrap(err))
	case given(scalesAt):
		k, err := c.konstInput(in, scalesAt, "scales")
		if err != nil {
			return nil, err
		}
		scales := k.floats()
		if len(scales) != r {
			return nil, c.errf("scales %v has %d entries for an input of rank %d", scales, len(scales), r)
		}
		for d := 0; d < r-2; d++ {
			if scales[d] != 1 {
				return nil, c.unsupported(fmt.Sprintf("scales %v (resizing axis %d)", scales, d), "only the last two axes can be resized")
			}
		}
		y, err := ops.ResizeScales(x, scales[r-2], scales[r-1], mode, coord, nearest)
		return one(y, c.wrap(err))
	}
	return nil, c.errf("neither scales nor sizes is given")
}
