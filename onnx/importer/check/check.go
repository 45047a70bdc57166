// Package check verifies an imported model numerically, for `ssl4dp inspect --check` and
// `--train-check`: the importer's forward pass against onnxruntime on a seeded random input,
// and the importer's parameter gradients against central finite differences of its own
// forward pass.
//
//	rep, err := check.Forward(model, check.Options{Seed: 1})
//	for _, o := range rep.Outputs { fmt.Println(o.Name, o.MaxAbs, o.MaxRel) }
//	grads, err := check.Gradients(model, check.Options{Seed: 1, Samples: 20})
//
// Errors: an unsupported op comes back as the importer's *importer.UnsupportedError
// (wrapped); nothing panics on a bad model.
package check

import (
	"fmt"
	"math/rand"
	"sort"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// Options choose the input and the sampling. The zero value checks at batch 2 and 64×64 for
// symbolic dimensions, seed 0.
type Options struct {
	// Shapes fixes input shapes by name; inputs not listed take their declared shape with
	// symbolic dimensions set to Batch (dimension 0) or Size (the others).
	Shapes map[string][]int
	Batch  int // default 2 (BatchNorm's batch statistics need more than one sample)
	Size   int // default 64
	Seed   int64
	// Samples is how many parameter-gradient entries Gradients compares; default 20.
	Samples int
	// Eps is the central-difference step; default 1e-6 (float64).
	Eps float64
}

func (o Options) withDefaults() Options {
	if o.Batch == 0 {
		o.Batch = 2
	}
	if o.Size == 0 {
		o.Size = 64
	}
	if o.Samples == 0 {
		o.Samples = 20
	}
	if o.Eps == 0 {
		o.Eps = 1e-6
	}
	return o
}

// inputShapes resolves every graph input's shape.
func inputShapes(mp *pb.ModelProto, o Options) (map[string][]int, error) {
	shapes := map[string][]int{}
	for _, in := range onnx.GraphInputs(mp.Graph) {
		name := in.GetName()
		if s, ok := o.Shapes[name]; ok {
			shapes[name] = s
			continue
		}
		dims, _ := onnx.Dims(in)
		if dims == nil {
			return nil, fmt.Errorf("check: input %q declares no shape; give one (--input-shape %s=N,C,H,W)", name, name)
		}
		s := make([]int, len(dims))
		for d, dim := range dims {
			switch {
			case dim.Param == "" && dim.Value > 0:
				s[d] = int(dim.Value)
			case d == 0:
				s[d] = o.Batch
			default:
				s[d] = o.Size
			}
		}
		shapes[name] = s
	}
	for name := range o.Shapes {
		if _, ok := shapes[name]; !ok {
			return nil, fmt.Errorf("check: the model has no input %q", name)
		}
	}
	return shapes, nil
}

// randomInputs draws seeded N(0,1) values for every input, in sorted name order.
func randomInputs(shapes map[string][]int, seed int64) map[string][]float32 {
	r := rand.New(rand.NewSource(seed))
	names := make([]string, 0, len(shapes))
	for n := range shapes {
		names = append(names, n)
	}
	sort.Strings(names)
	out := map[string][]float32{}
	for _, n := range names {
		size := 1
		for _, d := range shapes[n] {
			size *= d
		}
		v := make([]float32, size)
		for i := range v {
			v[i] = float32(r.NormFloat64())
		}
		out[n] = v
	}
	return out
}

// bind sets each input node of m to its values, converted to m's dtype.
func bind(m *importer.Model, shapes map[string][]int, values map[string][]float32) error {
	for name, v := range values {
		n, err := m.Input(name)
		if err != nil {
			return err
		}
		var t *tensor.Dense
		if m.Dtype() == tensor.Float64 {
			d := make([]float64, len(v))
			for i, x := range v {
				d[i] = float64(x)
			}
			t = tensor.New(tensor.WithShape(shapes[name]...), tensor.WithBacking(d))
		} else {
			t = tensor.New(tensor.WithShape(shapes[name]...), tensor.WithBacking(append([]float32{}, v...)))
		}
		if err := G.Let(n, t); err != nil {
			return fmt.Errorf("check: binding input %q: %w", name, err)
		}
	}
	return nil
}
