package importer

import (
	"fmt"
	"strconv"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/ops"
)

// BatchNorm is one BatchNormalization node's running statistics.
type BatchNorm struct {
	Node  string       // the ONNX node's name
	Mean  string       // initializer names of the running mean and variance
	Var   string       //
	State *ops.BNState // updated in place in training mode; WriteBack stores it
}

// lowerBatchNorm: BatchNormalization → ops.BatchNorm with the running statistics as
// buffers. The model's Phase decides the mode, not the node's training_mode attribute
// (opset 14) nor the number of outputs a training export lists (opsets 9–13): switching
// modes never rebuilds the graph. Outputs other than Y (running statistics, saved mean
// and variance) are not computed.
func lowerBatchNorm(c *nodeCtx, in []value) ([]value, error) {
	if c.opset < 9 && onnx.AttrInt(c.n, "spatial", 1) == 0 {
		return nil, c.unsupported("attribute spatial=0", "only per-channel (spatial) BatchNorm is supported")
	}
	if len(in) != 5 {
		return nil, c.errf("has %d inputs, want 5 (X, scale, B, mean, var)", len(in))
	}
	x, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	scale, err := c.nodeOf(in, 1)
	if err != nil {
		return nil, err
	}
	bias, err := c.nodeOf(in, 2)
	if err != nil {
		return nil, err
	}
	var stats [2]*konst
	for j, i := range []int{3, 4} {
		name := c.n.Input[i]
		if !c.init[name] || !in[i].isKonst() {
			return nil, c.unsupported(fmt.Sprintf("running statistic %q that is not an initializer", name),
				"export with the running statistics as initializers (torch.onnx.export(..., training=TrainingMode.PRESERVE, do_constant_folding=False))")
		}
		if owner, ok := c.bufs[name]; ok {
			return nil, c.unsupported(fmt.Sprintf("running statistic %q shared with node %q", name, owner),
				"give every BatchNormalization its own running mean and variance")
		}
		c.bufs[name] = nodeName(c.n)
		stats[j] = in[i].k
	}
	ch := x.Shape()[1]
	if x.Dims() < 2 || stats[0].size() != ch || stats[1].size() != ch {
		return nil, c.errf("X %v, running mean %v and variance %v: want [C] statistics for C = X's dimension 1", x.Shape(), stats[0].shape, stats[1].shape)
	}
	st := &ops.BNState{
		Mean:     c.m.denseOf(stats[0].f, []int{ch}),
		Var:      c.m.denseOf(stats[1].f, []int{ch}),
		Momentum: decimal(onnx.AttrFloat(c.n, "momentum", 0.9)),
		Eps:      decimal(onnx.AttrFloat(c.n, "epsilon", 1e-5)),
		Phase:    c.m.Phase,
		Unbiased: !c.o.ONNXRunningVar,
	}
	// A BatchNormalization read only by a Relu runs as one op with it (ops.BatchNormRelu):
	// two passes over the activation fewer forward, three backward.
	fuse := !c.o.NoFusion && len(c.n.Output) > 0 && c.m.soleRelu[c.n.Output[0]]
	bn := ops.BatchNorm
	if fuse {
		bn = ops.BatchNormRelu
	}
	y, err := bn(x, scale, bias, st)
	if err != nil {
		return nil, c.wrap(err)
	}
	c.m.bns = append(c.m.bns, BatchNorm{Node: nodeName(c.n), Mean: c.n.Input[3], Var: c.n.Input[4], State: st})
	outs := []value{{node: y, reluFused: fuse}}
	for len(outs) < len(c.n.Output) {
		outs = append(outs, unavailable("BatchNormalization's running-statistic outputs are not computed: the importer keeps the statistics itself (Model.BatchNorms, WriteBack)"))
	}
	return outs, nil
}

// decimal widens a float32 attribute to the shortest decimal that rounds to it: ONNX stores
// momentum 0.9 as 0.89999998, and the exporter meant 0.9 (PyTorch's 1 − 0.1), which keeps
// running statistics identical to PyTorch's in float64.
func decimal(f float32) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(f), 'g', -1, 32), 64)
	return v
}
