package nodetest

import (
	"fmt"
	"math"
	"strconv"

	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// RTol and ATol are ONNX's backend-test tolerances (onnx/backend/test/runner: rtol=1e-3,
// atol=1e-7 in numpy's assert_allclose).
const (
	RTol = 1e-3
	ATol = 1e-7
)

// Compare checks a computed tensor (its shape, and its values as []float32, []float64,
// []int64, []int32, []uint8 or []bool) against an expected one. Floating-point values pass
// when |got − want| ≤ atol + rtol·|want| (numpy's assert_allclose, computed in float64), NaN
// matches NaN and infinities must be equal; integers and booleans must be equal. The error
// names the first differing element by index and says how many differ.
func Compare(want *pb.TensorProto, gotShape []int64, got any, rtol, atol float64) error {
	wantShape, wantData, err := Decode(want)
	if err != nil {
		return err
	}
	if !equalShape(gotShape, wantShape) {
		return fmt.Errorf("shape %v, want %v", gotShape, wantShape)
	}
	if gt, wt := fmt.Sprintf("%T", got), fmt.Sprintf("%T", wantData); gt != wt {
		return fmt.Errorf("values are %s, want %s", gt, wt)
	}
	if lenOf(got) != lenOf(wantData) {
		return fmt.Errorf("%d values for shape %v, want %d", lenOf(got), gotShape, lenOf(wantData))
	}
	var d diff
	switch w := wantData.(type) {
	case []float32:
		g := got.([]float32)
		for i := range w {
			d.float(i, float64(g[i]), float64(w[i]), rtol, atol, 32)
		}
	case []float64:
		g := got.([]float64)
		for i := range w {
			d.float(i, g[i], w[i], rtol, atol, 64)
		}
	case []int64:
		exactInts(&d, got.([]int64), w)
	case []int32:
		exactInts(&d, got.([]int32), w)
	case []uint8:
		exactInts(&d, got.([]uint8), w)
	case []bool:
		for i, g := range got.([]bool) {
			if g != w[i] {
				d.add(i, g, w[i], 1)
			}
		}
	}
	if d.count == 0 {
		return nil
	}
	return fmt.Errorf("%d of %d values differ (max |diff| %.3g); first at %v: got %v, want %v (rtol %g, atol %g)",
		d.count, lenOf(wantData), d.max, index(d.first, wantShape), d.got, d.want, rtol, atol)
}

// diff accumulates mismatches.
type diff struct {
	count, first int
	got, want    any
	max          float64
}

func (d *diff) add(i int, got, want any, abs float64) {
	if d.count == 0 {
		d.first, d.got, d.want = i, got, want
	}
	d.count++
	if abs > d.max {
		d.max = abs
	}
}

// float compares one value; bits (32 or 64) is the precision to print it with.
func (d *diff) float(i int, g, w, rtol, atol float64, bits int) {
	fmtF := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, bits) }
	switch {
	case math.IsNaN(w) || math.IsNaN(g):
		if math.IsNaN(w) != math.IsNaN(g) {
			d.add(i, fmtF(g), fmtF(w), math.Inf(1))
		}
	case math.IsInf(w, 0) || math.IsInf(g, 0):
		if g != w {
			d.add(i, fmtF(g), fmtF(w), math.Inf(1))
		}
	default:
		if abs := math.Abs(g - w); abs > atol+rtol*math.Abs(w) {
			d.add(i, fmtF(g), fmtF(w), abs)
		}
	}
}

func exactInts[T int64 | int32 | uint8](d *diff, got, want []T) {
	for i := range want {
		if got[i] != want[i] {
			d.add(i, got[i], want[i], math.Abs(float64(got[i])-float64(want[i])))
		}
	}
}

func equalShape(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// index turns a flat row-major offset into a multi-index.
func index(flat int, shape []int64) []int64 {
	idx := make([]int64, len(shape))
	for i := len(shape) - 1; i >= 0; i-- {
		if shape[i] > 0 {
			idx[i] = int64(flat) % shape[i]
			flat /= int(shape[i])
		}
	}
	return idx
}

func lenOf(data any) int {
	switch d := data.(type) {
	case []float32:
		return len(d)
	case []float64:
		return len(d)
	case []int64:
		return len(d)
	case []int32:
		return len(d)
	case []uint8:
		return len(d)
	case []bool:
		return len(d)
	}
	return 0
}
