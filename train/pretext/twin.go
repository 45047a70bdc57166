package pretext

import (
	"google.golang.org/protobuf/proto"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	G "gorgonia.org/gorgonia"
)

// importTwin imports mp a second time into first's graph for the second view, sharing every
// parameter node with first, so one backward pass sums both views' gradients. This is how
// BYOL and SimSiam run their two views through one network: two forward calls, each with
// BatchNorm statistics of its own view (google-deepmind byol_experiment.py,
// facebookresearch/simsiam builder.py), where a concatenated batch would mix the views.
//
// The twin's parameters become graph inputs bound to first's nodes; its BatchNorm running
// statistics are its own and are merged into first's after each step (see bnMerge).
func importTwin(mp *pb.ModelProto, first *importer.Model, n, size int) (*importer.Model, *bnMerge, error) {
	c := proto.Clone(mp).(*pb.ModelProto)
	roles := onnx.Roles(c.Graph)
	shared := map[string]*G.Node{}
	var kept []*pb.TensorProto
	for _, t := range c.Graph.Initializer {
		p, ok := first.Param(t.GetName())
		if roles[t.GetName()] != onnx.Param || !ok {
			kept = append(kept, t)
			continue
		}
		dims := make([]onnx.Dim, 0, p.Node.Dims())
		for _, d := range p.Node.Shape() {
			dims = append(dims, onnx.Dim{Value: int64(d)})
		}
		c.Graph.Input = append(c.Graph.Input, onnx.ValueInfo(t.GetName(), pb.TensorProto_DataType(t.GetDataType()), dims...))
		shared[t.GetName()] = p.Node
	}
	c.Graph.Initializer = kept
	twin, err := importer.Import(c, importer.Options{
		Graph:       first.Graph,
		Prefix:      "view2/",
		InputShapes: map[string][]int{graphs.Input: {n, 3, size, size}},
		InputNodes:  shared,
		Phase:       first.Phase,
	})
	if err != nil {
		return nil, nil, errorf("importing the second view's copy of the network: %w", err)
	}
	bm, err := newBNMerge(first, twin)
	if err != nil {
		return nil, nil, err
	}
	return twin, bm, nil
}

// bnMerge makes two imports of one network keep the running statistics PyTorch would give
// one module called on view 1 and then on view 2. With ONNX momentum M each call does
// r ← M·r + (1 − M)·b; the two calls in a row give r2 = M·r1 + (1 − M)·b2. Both copies start
// the step from r0 (before), copy 1 ends at r1 = M·r0 + (1 − M)·b1 and the twin at
// s1 = M·r0 + (1 − M)·b2, so r2 = M·r1 + s1 − M·r0 (after).
type bnMerge struct {
	first, twin []importer.BatchNorm
	r0          [][2][]float32 // mean, var of first before the step
	dev         *bnMergeDev    // r0 on the device in a resident run (device_state.go)
}

func newBNMerge(first, twin *importer.Model) (*bnMerge, error) {
	a, b := first.BatchNorms(), twin.BatchNorms()
	if len(a) != len(b) {
		return nil, errorf("twin network has %d BatchNorms, the first %d", len(b), len(a))
	}
	for i := range a {
		if a[i].Node != b[i].Node || a[i].State.Momentum != b[i].State.Momentum {
			return nil, errorf("twin BatchNorm %d is %q, the first's %q", i, b[i].Node, a[i].Node)
		}
	}
	m := &bnMerge{first: a, twin: b, r0: make([][2][]float32, len(a))}
	for i, bn := range a {
		m.r0[i] = [2][]float32{make([]float32, bn.State.Mean.Shape().TotalSize()), make([]float32, bn.State.Var.Shape().TotalSize())}
	}
	return m, nil
}

// before records r0 and starts the twin from it.
func (m *bnMerge) before() {
	for i, bn := range m.first {
		copy(m.r0[i][0], bn.State.Mean.Data().([]float32))
		copy(m.r0[i][1], bn.State.Var.Data().([]float32))
		copy(m.twin[i].State.Mean.Data().([]float32), m.r0[i][0])
		copy(m.twin[i].State.Var.Data().([]float32), m.r0[i][1])
	}
}

// after folds the twin's update into first's statistics.
func (m *bnMerge) after() {
	for i, bn := range m.first {
		mom := float32(bn.State.Momentum)
		for j, st := range [2][2][]float32{
			{bn.State.Mean.Data().([]float32), m.twin[i].State.Mean.Data().([]float32)},
			{bn.State.Var.Data().([]float32), m.twin[i].State.Var.Data().([]float32)},
		} {
			r1, s1, r0 := st[0], st[1], m.r0[i][j]
			for k := range r1 {
				r1[k] = mom*r1[k] + s1[k] - mom*r0[k]
			}
		}
	}
}
