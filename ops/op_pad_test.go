package ops

import (
	"fmt"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops/gradcheck"
)

var padCases = []struct {
	shape, pads, want []int
}{
	{[]int{2, 3, 4, 5}, []int{0, 0, 1, 2, 0, 0, 2, 1}, []int{2, 3, 7, 8}},
	{[]int{2, 3, 4, 5}, []int{0, 1, 0, -1, 1, 0, -2, 3}, []int{3, 4, 2, 7}}, // crops and pads mixed
	{[]int{3, 4}, []int{2, 3, 2, 3}, []int{7, 10}},
	{[]int{4}, []int{-1, 2}, []int{5}},
	{[]int{3, 4}, []int{5, 0, 0, 7}, []int{8, 11}}, // reflect wider than the axis
}

func TestPadGrad(t *testing.T) {
	for _, c := range padCases {
		for _, mode := range []PadMode{PadConstant, PadReflect, PadEdge} {
			err := gradcheck.Compare(gradcheck.Options{}, bUnary(func(x *G.Node) (*G.Node, error) {
				return Pad(x, c.pads, mode, 0.25)
			}), gradcheck.Rand(30, c.shape))
			if err != nil {
				t.Errorf("%v pads %v: %v", mode, c.pads, err)
			}
		}
	}
}

func TestPadShapes(t *testing.T) {
	for _, c := range padCases {
		s, _ := bForward(t, bUnary(func(x *G.Node) (*G.Node, error) { return Pad(x, c.pads, PadEdge, 0) }), gradcheck.Rand(31, c.shape))
		bShape(t, fmt.Sprint("pads ", c.pads), s, c.want...)
	}
}

// Small cases worked by hand, one per mode and one with a crop.
func TestPadByHand(t *testing.T) {
	x := bDense([]int{3}, []float64{1, 2, 3})
	for _, c := range []struct {
		pads []int
		mode PadMode
		want []float64
	}{
		{[]int{2, 1}, PadConstant, []float64{9, 9, 1, 2, 3, 9}},
		{[]int{2, 1}, PadEdge, []float64{1, 1, 1, 2, 3, 3}},
		{[]int{2, 2}, PadReflect, []float64{3, 2, 1, 2, 3, 2, 1}},
		{[]int{4, 0}, PadReflect, []float64{1, 2, 3, 2, 1, 2, 3}}, // numpy.pad keeps mirroring
		{[]int{-1, 2}, PadReflect, []float64{2, 3, 2, 3}},         // crop first, then mirror [2 3]
		{[]int{-1, 2}, PadEdge, []float64{2, 3, 3, 3}},
		{[]int{1, -2}, PadConstant, []float64{9, 1}},
	} {
		_, got := bForward(t, bUnary(func(x *G.Node) (*G.Node, error) { return Pad(x, c.pads, c.mode, 9) }), x)
		bClose(t, fmt.Sprintf("%v %v", c.mode, c.pads), got, c.want, 0, 0)
	}
}

func TestPadErrors(t *testing.T) {
	g := G.NewGraph()
	x := G.NewTensor(g, G.Float64, 2, G.WithShape(3, 4), G.WithName("x"))
	_, err := Pad(x, []int{1, 1, 1}, PadConstant, 0)
	bWantErr(t, "odd pads", err, "ops: Pad", "[1 1 1]", "want 4")
	_, err = Pad(x, []int{-2, 0, -1, 0}, PadConstant, 0)
	bWantErr(t, "crop to nothing", err, "axis 0", "leave 0 elements")
	_, err = Pad(x, []int{-3, 0, 1, 0}, PadEdge, 0)
	bWantErr(t, "edge of nothing", err, "crop every element")
	_, err = Pad(x, []int{0, 0, 0, 0}, PadMode(5), 0)
	bWantErr(t, "mode", err, "unknown mode 5")
}
