package bench

import (
	"math/rand/v2"

	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// fedShapes are the input shapes of one run, and whether --batch and --size reached them.
type fedShapes struct {
	shapes       map[string][]int64
	batchApplied bool // some input has a dynamic first axis, which got the batch size
	sizeApplied  bool // some NCHW input has dynamic spatial axes, which got the size
}

// resolveShapes fills the model's dynamic axes: the first axis of any input is the batch,
// axes 2 and 3 of a rank-4 input are the square side. Axes the model fixes keep their size
// (a fixed-shape model runs at its own shape). Any other dynamic axis, or an input of
// unknown rank, is an error: bench would have to guess its size.
func resolveShapes(model string, inputs []ort.ValueInfo, batch, size int) (fedShapes, error) {
	f := fedShapes{shapes: map[string][]int64{}}
	for _, vi := range inputs {
		if vi.Shape == nil {
			return fedShapes{}, configErr("%s: input %q declares no shape; bench needs its rank to choose a size", model, vi.Name)
		}
		s := make([]int64, len(vi.Shape))
		for i, d := range vi.Shape {
			switch {
			case d >= 0:
				s[i] = d
			case i == 0:
				s[i], f.batchApplied = int64(batch), true
			case len(vi.Shape) == 4 && (i == 2 || i == 3):
				s[i], f.sizeApplied = int64(size), true
			default:
				return fedShapes{}, configErr("%s: input %q %v: axis %d is dynamic, and bench only sizes the batch axis (0) and the spatial axes (2, 3) of NCHW inputs", model, vi.Name, vi.Shape, i)
			}
		}
		f.shapes[vi.Name] = s
	}
	return f, nil
}

// images is the batch a run processes: the first axis of the first input (1 for a scalar).
func (f fedShapes) images(inputs []ort.ValueInfo) int {
	if s := f.shapes[inputs[0].Name]; len(s) > 0 && s[0] > 0 {
		return int(s[0])
	}
	return 1
}

// feeds makes seeded input values: uniform in [−1, 1) for floats, zeros for integers and
// booleans (index inputs at zero are always in range).
func feeds(model string, inputs []ort.ValueInfo, f fedShapes, seed int64) (map[string]ort.Tensor, error) {
	r := rand.New(rand.NewPCG(uint64(seed), 0xbe9c))
	out := map[string]ort.Tensor{}
	for _, vi := range inputs {
		shape := f.shapes[vi.Name]
		n := 1
		for _, d := range shape {
			n *= int(d)
		}
		var data any
		switch vi.Type {
		case "float32":
			d := make([]float32, n)
			for i := range d {
				d[i] = 2*r.Float32() - 1
			}
			data = d
		case "float64":
			d := make([]float64, n)
			for i := range d {
				d[i] = 2*r.Float64() - 1
			}
			data = d
		case "int64":
			data = make([]int64, n)
		case "int32":
			data = make([]int32, n)
		case "uint8":
			data = make([]uint8, n)
		case "bool":
			data = make([]bool, n)
		default:
			return nil, configErr("%s: input %q has element type %s; bench feeds float32, float64, int64, int32, uint8 and bool", model, vi.Name, vi.Type)
		}
		out[vi.Name] = ort.Tensor{Shape: shape, Data: data}
	}
	return out, nil
}
