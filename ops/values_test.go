package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A value may reach an op as a view (tensor slicing) or with a lazy transpose (Dense.T); its
// backing array is then not in logical order, and valueData must materialise it.
func TestValueDataReadsViewsInOrder(t *testing.T) {
	x := bDense([]int{3, 4}, bSeq(12))
	v, err := x.Slice(nil, tensor.S(1, 3)) // columns 1 and 2
	if err != nil {
		t.Fatal(err)
	}
	got, err := valueData[float64](v)
	if err != nil {
		t.Fatal(err)
	}
	bClose(t, "slice view", got, []float64{1, 2, 5, 6, 9, 10}, 0, 0)

	tr := bDense([]int{2, 3}, bSeq(6))
	if err := tr.T(); err != nil {
		t.Fatal(err)
	}
	got, err = valueData[float64](tr)
	if err != nil {
		t.Fatal(err)
	}
	bClose(t, "lazy transpose", got, []float64{0, 3, 1, 4, 2, 5}, 0, 0)

	got, err = valueData[float64](G.NewF64(2.5))
	if err != nil {
		t.Fatal(err)
	}
	bClose(t, "Gorgonia scalar", got, []float64{2.5}, 0, 0)

	if _, err := valueData[float32](x); err == nil {
		t.Error("float64 data read as float32 without an error")
	}
}
