package pretext

import (
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

// buildModel is the method's network as ONNX: graphs' architecture with the pretext heads
// pt and the given outputs, freshly initialised, then overwritten by Options.Init.
func buildModel(o Options, pt graphs.Pretext, outputs ...string) (*pb.ModelProto, InitReport, error) {
	mp, err := graphs.Build(o.Net.spec(pt, o.Seed, outputs...))
	if err != nil {
		return nil, InitReport{}, errorf("%w", err)
	}
	var r InitReport
	if o.Init != nil {
		if r, err = applyInit(mp, o); err != nil {
			return nil, r, err
		}
	}
	return mp, r, nil
}

// importTrained imports mp for training at batch n of size×size images, in training mode.
// Parameter and input names are the ONNX names (no prefix): the engine's parameter groups
// and the checkpoints go by them.
func importTrained(mp *pb.ModelProto, n, size int) (*importer.Model, error) {
	m, err := importer.Import(mp, importer.Options{
		InputShapes: map[string][]int{graphs.Input: {n, 3, size, size}},
		Phase:       &ops.Phase{Training: true},
	})
	if err != nil {
		return nil, errorf("importing the %s network: %w", networkName(mp), err)
	}
	return m, nil
}

// outputs fetches the named outputs of m.
func outputs(m *importer.Model, names ...string) (G.Nodes, error) {
	var ns G.Nodes
	for _, name := range names {
		n, err := m.Output(name)
		if err != nil {
			return nil, errorf("%w", err)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

func networkName(mp *pb.ModelProto) string { return mp.GetGraph().GetName() }

// denseCells turns a dense map [N, D, h, w] into L2-normalised cell vectors [N·h·w, D],
// row n·h·w + r·w + c being cell (r, c) of image n (data.Grid's row-major numbering).
func denseCells(x *G.Node) (*G.Node, error) {
	s := x.Shape()
	if len(s) != 4 {
		return nil, errorf("dense map %q has shape %v, want [N, D, h, w]", x.Name(), s)
	}
	y, err := ops.L2Normalize(x, 1, normEps)
	if err != nil {
		return nil, err
	}
	if y, err = ops.Transpose(y, []int{0, 2, 3, 1}); err != nil {
		return nil, err
	}
	return G.Reshape(y, []int{s[0] * s[2] * s[3], s[1]})
}

// cellsOf does what denseCells does, on values: from one image's dense map [D, h, w] it
// writes the normalised cell rows [h·w, D] into dst.
func cellsOf(dst, src []float32, d, hw int) {
	for c := 0; c < hw; c++ {
		row := dst[c*d : (c+1)*d]
		for k := 0; k < d; k++ {
			row[k] = src[k*hw+c]
		}
		normalizeRow(row)
	}
}
