package ops

import (
	"fmt"
	"math"
)

// ResizeMode is ONNX Resize's mode attribute (cubic is not supported).
type ResizeMode int

const (
	// Nearest copies the nearest input element, rounded as NearestMode says.
	Nearest ResizeMode = iota
	// Linear interpolates between the two neighbouring input elements on each axis
	// (bilinear on H×W).
	Linear
)

func (m ResizeMode) String() string {
	switch m {
	case Nearest:
		return "nearest"
	case Linear:
		return "linear"
	}
	return fmt.Sprintf("ResizeMode(%d)", int(m))
}

// CoordMode is ONNX Resize's coordinate_transformation_mode: where output index x lands on
// the input axis (in, out are lengths; scale = out/in, or the scale the model gives).
type CoordMode int

const (
	// HalfPixel: (x + 0.5)/scale − 0.5. PyTorch's align_corners=False.
	HalfPixel CoordMode = iota
	// PytorchHalfPixel: as HalfPixel, but 0 when the output length is 1.
	PytorchHalfPixel
	// AlignCorners: x·(in − 1)/(out − 1), 0 when out is 1. PyTorch's align_corners=True.
	AlignCorners
	// Asymmetric: x/scale. With Floor nearest rounding this is PyTorch's "nearest".
	Asymmetric
)

func (c CoordMode) String() string {
	switch c {
	case HalfPixel:
		return "half_pixel"
	case PytorchHalfPixel:
		return "pytorch_half_pixel"
	case AlignCorners:
		return "align_corners"
	case Asymmetric:
		return "asymmetric"
	}
	return fmt.Sprintf("CoordMode(%d)", int(c))
}

// NearestMode is ONNX Resize's nearest_mode: how a fractional source coordinate picks an
// input element in Nearest mode.
type NearestMode int

const (
	// RoundPreferFloor rounds to nearest, halves down (ONNX's default).
	RoundPreferFloor NearestMode = iota
	// RoundPreferCeil rounds to nearest, halves up.
	RoundPreferCeil
	// Floor rounds down.
	Floor
	// Ceil rounds up.
	Ceil
)

func (n NearestMode) String() string {
	switch n {
	case RoundPreferFloor:
		return "round_prefer_floor"
	case RoundPreferCeil:
		return "round_prefer_ceil"
	case Floor:
		return "floor"
	case Ceil:
		return "ceil"
	}
	return fmt.Sprintf("NearestMode(%d)", int(n))
}

// resizeAxis is one resized axis.
type resizeAxis struct {
	in, out int
	// scale is the model's explicit scale (ResizeScales), or 0 when the scale is out/in
	// (Resize2D).
	scale float32
}

// scale32 is the scale the coordinate formulas divide by, in float32 as onnxruntime computes
// it from sizes: float32(out)/float32(in).
func (a resizeAxis) scale32() float32 {
	if a.scale != 0 {
		return a.scale
	}
	return float32(a.out) / float32(a.in)
}

// source maps output index x to its (unclamped) coordinate on the input axis, by the ONNX
// spec's formulas; align_corners uses the output length, not in·scale, as onnxruntime does.
// Linear mode evaluates them in float64 (from exact integer ratios when the scale is out/in),
// so the weights carry no float32 rounding and float64 runs match PyTorch's double
// F.interpolate to the last bits. Nearest mode evaluates them in float32 exactly as
// onnxruntime does, because there the last bit picks the element: for half_pixel 7 → 1,
// (0 + 0.5)/(1/7)f − 0.5 is 2.9999998 in float32 and floor picks element 2 where exact
// arithmetic picks 3. The explicit float32 conversions round every step, so no fused
// multiply-add can change the result.
func (a resizeAxis) source(x int, c CoordMode, nearest bool) float64 {
	if (c == PytorchHalfPixel || c == AlignCorners) && a.out == 1 {
		return 0
	}
	if nearest {
		xr, s := float32(x), a.scale32()
		switch c {
		case AlignCorners:
			return float64(float32(xr*float32(a.in-1)) / float32(a.out-1))
		case Asymmetric:
			return float64(xr / s)
		}
		return float64(float32(float32(xr+0.5)/s) - 0.5)
	}
	switch c {
	case AlignCorners:
		return float64(x*(a.in-1)) / float64(a.out-1)
	case Asymmetric:
		if a.scale == 0 {
			return float64(x*a.in) / float64(a.out)
		}
		return float64(x) / float64(a.scale)
	}
	if a.scale == 0 {
		return float64((2*x+1)*a.in-a.out) / float64(2*a.out)
	}
	return (float64(x)+0.5)/float64(a.scale) - 0.5
}

// nearestIndex rounds a source coordinate as nearest_mode says and clamps it to the axis.
func nearestIndex(s float64, n NearestMode, in int) int {
	var i float64
	switch n {
	case RoundPreferFloor:
		if s == math.Floor(s)+0.5 {
			i = math.Floor(s)
		} else {
			i = math.Round(s)
		}
	case RoundPreferCeil:
		if s == math.Floor(s)+0.5 {
			i = math.Ceil(s)
		} else {
			i = math.Round(s)
		}
	case Floor:
		i = math.Floor(s)
	case Ceil:
		i = math.Ceil(s)
	}
	return min(max(int(i), 0), in-1)
}

// matrix returns the out×in interpolation matrix R of this axis (row-major): resized = R·x.
// Linear rows hold two weights summing to 1 (the coordinate is clamped to [0, in−1] first, as
// onnxruntime and PyTorch do); nearest rows hold a single 1.
func (a resizeAxis) matrix(mode ResizeMode, c CoordMode, n NearestMode) []float64 {
	r := make([]float64, a.out*a.in)
	for x := 0; x < a.out; x++ {
		row := r[x*a.in : (x+1)*a.in]
		s := a.source(x, c, mode == Nearest)
		if mode == Nearest {
			row[nearestIndex(s, n, a.in)] = 1
			continue
		}
		s = min(max(s, 0), float64(a.in-1))
		i0 := int(s)
		i1 := min(i0+1, a.in-1)
		w := s - float64(i0)
		row[i0] += 1 - w
		row[i1] += w
	}
	return r
}
