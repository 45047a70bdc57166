package pretext

import (
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func shapeOf(n *G.Node) any {
	if n == nil {
		return "nil"
	}
	return n.Shape()
}

// checkEmbeddings wants every node to be a [rows, D] matrix of one float dtype and one D.
func checkEmbeddings(what string, ns ...*G.Node) error {
	for i, n := range ns {
		if n == nil || n.Dims() != 2 {
			return errorf("%s: input %d has shape %v, want [rows, D]", what, i, shapeOf(n))
		}
		if dt := n.Dtype(); dt != tensor.Float32 && dt != tensor.Float64 {
			return errorf("%s: input %d is %v, want float32 or float64", what, i, dt)
		}
		if n.Dtype() != ns[0].Dtype() || n.Shape()[1] != ns[0].Shape()[1] {
			return errorf("%s: input %d is %v %v but input 0 is %v %v; want one dtype and one D", what, i, n.Dtype(), n.Shape(), ns[0].Dtype(), ns[0].Shape())
		}
	}
	return nil
}

func checkSameShape(what string, a, b *G.Node) error {
	if !a.Shape().Eq(b.Shape()) {
		return errorf("%s: inputs of shape %v and %v, want equal shapes (row i pairs with row i)", what, a.Shape(), b.Shape())
	}
	return nil
}

func checkTemperature(what string, t float64) error {
	if !(t > 0) || math.IsInf(t, 1) {
		return errorf("%s: temperature %v, want a positive finite value", what, t)
	}
	return nil
}
