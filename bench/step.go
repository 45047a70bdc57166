package bench

import (
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/pretext"
	"github.com/ssl4dp/ssl4dp/train/seg"
)

// Step is one training step as Train times it: the part of train.Task that a step needs (no
// checkpoints, no outputs). Every train.Task is a Step, so Train times the training engine's
// own tasks.
type Step interface {
	Name() string
	DataTask() data.Task
	Build(batch int) error
	Graph() *G.ExprGraph
	Loss() *G.Node
	Learnables() []importer.Param
	Bind(b *data.Batch, step int) error
	AfterStep(step int) error
}

var _ Step = train.Task(nil)

// Methods lists the names TrainConfig.Method accepts: "seg" (train/seg's fine-tuning task)
// and train/pretext's methods.
func Methods() []string { return append([]string{"seg"}, pretext.Methods...) }

// momentumMethods run a momentum network (MoCo's key encoder, BYOL's target) inside Bind,
// outside the training graph, on as many views as the online network sees (see each
// method's Bind in train/pretext): its forward pass counts as forward-only work equal to the
// online network's forward work.
var momentumMethods = []string{"moco", "edmoco", "plmoco", "pledmoco", "byol"}

// newStep makes the task Train times, on a dataset of c.Size noise images, and describes
// its network in r. c is normalized.
func newStep(c TrainConfig, r *TrainReport) (Step, data.Dataset, error) {
	ds := &noise{classes: c.Spec.Classes, size: c.Size, n: c.Batch, seed: uint64(c.Seed)}
	s := c.Spec
	if c.Method == "seg" {
		t, err := seg.New(seg.Config{Encoder: s.Encoder, Width: s.Width, OutputStride: s.OutputStride, Head: s.Head,
			Crop: c.Size, Seed: s.Seed}, ds, ds, nil)
		if err != nil {
			return nil, nil, err
		}
		r.Encoder, r.Head, r.Width, r.OutputStride, r.Classes = string(s.Encoder), string(s.Head), s.Width, s.OutputStride, s.Classes
		return t, ds, nil
	}
	cfg, err := pretext.Defaults(c.Method, c.Scale)
	if err != nil {
		return nil, nil, err
	}
	t, err := pretext.New(c.Method, pretext.Options{Net: pretext.Net{Encoder: s.Encoder, Width: s.Width,
		OutputStride: s.OutputStride, Head: s.Head, DecoderWidth: s.DecoderWidth}, Size: c.Size, Seed: s.Seed}, cfg)
	if err != nil {
		return nil, nil, err
	}
	n := t.Options().Net // with the method's defaults: no head unless it trains a decoder
	r.Encoder, r.Head, r.Width, r.OutputStride, r.DecoderWidth = string(n.Encoder), string(n.Head), n.Width, n.OutputStride, n.DecoderWidth
	if r.Head == "" {
		r.Head = string(graphs.HeadNone)
	}
	r.Scale, r.MethodConfig = string(c.Scale), cfg.String()
	return t, ds, nil
}

// Work is the arithmetic of one step, for GFLOP/s: the forward multiply-adds of the networks
// the step trains, and of those it only runs forward (a momentum network).
type Work struct {
	TrainedMACs     int64 `json:"trained_macs"`
	ForwardOnlyMACs int64 `json:"forward_only_macs"`
}

// FLOPConvention says how FLOPs turns Work into floating-point operations.
const FLOPConvention = "2 flops per multiply-add; forward+backward = 3 × forward for trained networks, 1 × for forward-only ones; multiply-adds of the Conv and MatMul nodes of the training graph (graphs.Measure's count for a graphs model)"

// FLOPs is 2·(3·TrainedMACs + ForwardOnlyMACs): a backward pass costs about twice its
// forward pass (gradients with respect to the input and to the weights), and each
// multiply-add is two operations.
func (w Work) FLOPs() float64 { return 2 * (3*float64(w.TrainedMACs) + float64(w.ForwardOnlyMACs)) }

// graphWork counts the multiply-adds of g's convolutions and matrix products (the forward
// graph: call it before differentiating): trained when the node depends on one of the
// learnables, forward-only otherwise. A convolution does (output elements) × (weight
// elements per output channel); a product [.., M, K]·[.., K, N] does (output elements) × K.
func graphWork(g *G.ExprGraph, learnables []importer.Param) (Work, error) {
	dep := map[*G.Node]bool{}
	for _, p := range learnables {
		dep[p.Node] = true
	}
	var w Work
	for _, n := range g.AllNodes() { // insertion order: every node after its inputs
		in := children(g, n)
		for _, c := range in {
			if dep[c] {
				dep[n] = true
				break
			}
		}
		macs, err := nodeMACs(n, in)
		if err != nil {
			return Work{}, err
		}
		if dep[n] {
			w.TrainedMACs += macs
		} else {
			w.ForwardOnlyMACs += macs
		}
	}
	return w, nil
}

// children are n's inputs, in order.
func children(g *G.ExprGraph, n *G.Node) []*G.Node {
	var in []*G.Node
	for it := g.From(n.ID()); it.Next(); {
		in = append(in, it.Node().(*G.Node))
	}
	return in
}

// nodeMACs is the multiply-adds of an ops.Conv2D or ops.MatMul node with inputs in (0 for
// other nodes).
func nodeMACs(n *G.Node, in []*G.Node) (int64, error) {
	op := n.Op()
	if op == nil {
		return 0, nil
	}
	out := int64(n.Shape().TotalSize())
	name := op.String()
	switch {
	case strings.HasPrefix(name, "Conv2D{") && len(in) >= 2:
		ws := in[1].Shape()
		if len(ws) != 4 || ws[0] == 0 {
			return 0, fmt.Errorf("bench: node %s: weight shape %v, want [K, C/groups, kh, kw]", n.Name(), ws)
		}
		return out * int64(ws.TotalSize()/ws[0]), nil
	case strings.HasPrefix(name, "MatMul{") && len(in) == 2:
		as := in[0].Shape()
		if len(as) < 1 {
			return 0, fmt.Errorf("bench: node %s: left operand shape %v", n.Name(), as)
		}
		return out * int64(as[len(as)-1]), nil
	}
	return 0, nil
}

// scalar is the value of a float32 or float64 scalar node (the loss).
func scalar(n *G.Node) (float64, error) {
	v := n.Value()
	if v == nil {
		return 0, fmt.Errorf("bench: node %s has no value", n.Name())
	}
	switch x := v.Data().(type) {
	case float32:
		return float64(x), nil
	case float64:
		return x, nil
	case []float32:
		if len(x) == 1 {
			return float64(x[0]), nil
		}
	case []float64:
		if len(x) == 1 {
			return x[0], nil
		}
	}
	return 0, fmt.Errorf("bench: node %s holds %T, want a float scalar", n.Name(), v.Data())
}
