package importer

import (
	"fmt"
	"strings"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

// op is how the importer handles one ONNX op type. fold computes the outputs when every
// input is an import-time constant; lower builds Gorgonia nodes when any input is computed
// at run time. shapeOnly ops (Shape, Size) fold whatever their input is.
type op struct {
	fold      func(c *nodeCtx, in []value) ([]value, error)
	lower     func(c *nodeCtx, in []value) ([]value, error)
	shapeOnly bool
}

// opTable is the dispatch table. Opset-dependent behaviour lives in each function (it reads
// c.opset): Softmax <13 vs ≥13, Resize 10 vs 11+, Pad attributes (≤10) vs inputs (≥11),
// Slice attributes (<10) vs inputs, Dropout ratio attribute (<12) vs input, reduction axes
// attribute vs input (ReduceSum 13, others 18), Squeeze/Unsqueeze axes (13), BatchNorm
// spatial (<9), Shape start/end (15), Reshape allowzero (14).
var opTable = map[string]op{
	// Folded at import only: the shape arithmetic of dynamic-size exports.
	"Shape":           {fold: foldShape, shapeOnly: true},
	"Size":            {fold: foldSize, shapeOnly: true},
	"Constant":        {fold: foldConstant},
	"ConstantOfShape": {fold: foldConstantOfShape},
	"Range":           {fold: foldRange},
	"Equal":           {fold: foldCompare},
	"Less":            {fold: foldCompare},
	"LessOrEqual":     {fold: foldCompare},
	"Greater":         {fold: foldCompare},
	"GreaterOrEqual":  {fold: foldCompare},
	"And":             {fold: foldCompare},
	"Or":              {fold: foldCompare},
	"Xor":             {fold: foldCompare},
	"Not":             {fold: foldNot},
	"Where":           {fold: foldWhere},
	"Floor":           {fold: foldUnary},
	"Ceil":            {fold: foldUnary},
	"Neg":             {fold: foldUnary},
	"Abs":             {fold: foldUnary},
	"Reciprocal":      {fold: foldUnary},
	"Exp":             {fold: foldUnary},
	"Log":             {fold: foldUnary},
	"Round":           {fold: foldUnary},
	"Min":             {fold: foldBinary},
	"Max":             {fold: foldBinary},
	"Sum":             {fold: foldBinary},
	"Mean":            {fold: foldBinary},
	"ReduceMax":       {fold: foldReduce},
	"ReduceMin":       {fold: foldReduce},
	"ReduceProd":      {fold: foldReduce},

	// Folded when every input is known at import time, lowered otherwise.
	"Identity":   {fold: foldIdentity, lower: foldIdentity},
	"Cast":       {fold: foldCast, lower: lowerCast},
	"Reshape":    {fold: foldReshape, lower: lowerReshape},
	"Flatten":    {fold: foldFlatten, lower: lowerFlatten},
	"Squeeze":    {fold: foldSqueeze, lower: lowerSqueeze},
	"Unsqueeze":  {fold: foldUnsqueeze, lower: lowerUnsqueeze},
	"Slice":      {fold: foldSlice, lower: lowerSlice},
	"Concat":     {fold: foldConcat, lower: lowerConcat},
	"Transpose":  {fold: foldTranspose, lower: lowerTranspose},
	"MatMul":     {fold: foldMatMul, lower: lowerMatMul},
	"Add":        {fold: foldBinary, lower: lowerBinary},
	"Sub":        {fold: foldBinary, lower: lowerBinary},
	"Mul":        {fold: foldBinary, lower: lowerBinary},
	"Div":        {fold: foldBinary, lower: lowerBinary},
	"ReduceSum":  {fold: foldReduce, lower: lowerReduce},
	"ReduceMean": {fold: foldReduce, lower: lowerReduce},
	"Relu":       {fold: foldUnary, lower: lowerRelu},
	"Sigmoid":    {fold: foldUnary, lower: lowerSigmoid},
	"Sqrt":       {fold: foldUnary, lower: lowerPointwise},
	"Pow":        {fold: foldBinary, lower: lowerPow},
	"Gather":     {fold: foldGather, lower: lowerGather},
	"Expand":     {fold: foldExpand, lower: lowerExpand},

	// Lowered only: the activations and norms of ConvNeXt, EfficientNet, MobileNetV3, ViT.
	"Erf":                {lower: lowerPointwise},
	"Gelu":               {lower: lowerPointwise},
	"HardSigmoid":        {lower: lowerPointwise},
	"HardSwish":          {lower: lowerPointwise},
	"LayerNormalization": {lower: lowerLayerNorm},
	"Split":              {lower: lowerSplit},

	// Lowered only (their constant inputs become constant nodes).
	"Conv":               {lower: lowerConv},
	"BatchNormalization": {lower: lowerBatchNorm},
	"Gemm":               {lower: lowerGemm},
	"Resize":             {lower: lowerResize},
	"Pad":                {lower: lowerPad},
	"Dropout":            {lower: lowerDropout},
	"MaxPool":            {lower: lowerMaxPool},
	"AveragePool":        {lower: lowerAveragePool},
	"GlobalAveragePool":  {lower: lowerGlobalAveragePool},
	"Softmax":            {lower: lowerSoftmax},
	"LogSoftmax":         {lower: lowerSoftmax},
}

// nodeCtx is what a fold or lowering sees: the model being built, the node, the opset.
type nodeCtx struct {
	m     *Model
	n     *pb.NodeProto
	opset int64
	o     *Options
	bufs  map[string]string // buffer initializer → the BatchNorm node that owns it
	init  map[string]bool   // initializer names
}

func (c *nodeCtx) errf(format string, args ...any) error {
	return &NodeError{Node: nodeName(c.n), Op: c.n.GetOpType(), Opset: c.opset, Err: fmt.Errorf(format, args...)}
}

func (c *nodeCtx) unsupported(what, hint string) error {
	return &UnsupportedError{Node: nodeName(c.n), Op: c.n.GetOpType(), Opset: c.opset, What: what, Hint: hint}
}

// konstInput returns input i, which must be known at import time (a shape, axes, pads…).
func (c *nodeCtx) konstInput(in []value, i int, what string) (*konst, error) {
	if i >= len(in) || !in[i].present() {
		return nil, c.errf("input %d (%s) is missing", i, what)
	}
	if in[i].k == nil {
		return nil, c.unsupported(fmt.Sprintf("a %s input computed at run time", what),
			"the importer needs it at import time: make it an initializer, a Constant, or a function of input shapes")
	}
	return in[i].k, nil
}

// nodeOf returns input i as a Gorgonia node, turning an import-time float constant into one.
func (c *nodeCtx) nodeOf(in []value, i int) (*G.Node, error) {
	if i >= len(in) || !in[i].present() {
		return nil, c.errf("input %d is missing", i)
	}
	if in[i].node != nil {
		return in[i].node, nil
	}
	if !in[i].k.isFloat() {
		return nil, c.unsupported(fmt.Sprintf("%v input %q", in[i].k.dt, c.n.Input[i]),
			"only float tensors are computed at run time; integer and bool tensors must fold at import time")
	}
	n, err := c.m.konstNode(in[i].k, c.n.Input[i])
	if err != nil {
		return nil, c.errf("%v", err)
	}
	return n, nil
}

// wrap names the node in an error from ops (or Gorgonia).
func (c *nodeCtx) wrap(err error) error {
	if err == nil {
		return nil
	}
	return &NodeError{Node: nodeName(c.n), Op: c.n.GetOpType(), Opset: c.opset, Err: err}
}

// one wraps a single output node.
func one(n *G.Node, err error) ([]value, error) {
	if err != nil {
		return nil, err
	}
	return []value{nodeValue(n)}, nil
}

// Import lowers an ONNX model onto a Gorgonia expression graph. See the package doc.
func Import(mp *pb.ModelProto, o Options) (*Model, error) {
	if mp == nil || mp.Graph == nil {
		return nil, errorf("model has no graph")
	}
	opset, err := onnx.Opset(mp, "")
	if err != nil {
		return nil, errorf("%v", err)
	}
	dt := o.dtype()
	if dt != tensor.Float32 && dt != tensor.Float64 {
		return nil, optionsErrorf("Dtype %v is not supported; use tensor.Float32 or tensor.Float64", dt)
	}
	g := o.Graph
	if g == nil {
		g = G.NewGraph()
	}
	phase := o.Phase
	if phase == nil {
		phase = &ops.Phase{}
	}
	m := &Model{Graph: g, Phase: phase, proto: mp, opset: opset, prefix: o.Prefix, dtype: dt,
		values: map[string]value{}, lazy: map[string]*G.Node{}, k2n: map[*konst]*G.Node{}}
	gp := mp.Graph
	if err := m.checkTied(gp, o); err != nil {
		return nil, err
	}
	if err := m.addInitializers(gp, o); err != nil {
		return nil, err
	}
	if err := m.addInputs(gp, o); err != nil {
		return nil, err
	}
	init := map[string]bool{}
	for _, t := range gp.Initializer {
		init[t.GetName()] = true
	}
	m.soleRelu = soleReluInputs(gp)
	bufs := map[string]string{}
	for _, n := range gp.Node {
		c := &nodeCtx{m: m, n: n, opset: opset, o: &o, bufs: bufs, init: init}
		if err := m.addNode(c); err != nil {
			return nil, err
		}
	}
	for _, out := range gp.Output {
		name := out.GetName()
		v, ok := m.values[name]
		if !ok {
			return nil, errorf("graph output %q is produced by no node", name)
		}
		if v.unavailable != "" {
			return nil, &UnsupportedError{Node: nodeName(v.by), Op: v.by.GetOpType(), Opset: opset, What: fmt.Sprintf("graph output %q", name), Hint: v.unavailable}
		}
		m.outputs = append(m.outputs, name)
	}
	if w := foldedBatchNormWarning(gp); w != "" {
		m.warnings = append(m.warnings, w)
	}
	return m, nil
}

// soleReluInputs are the tensors whose only reader is a Relu (not a graph output either): a
// BatchNormalization writing one can apply the Relu itself.
func soleReluInputs(gp *pb.GraphProto) map[string]bool {
	uses := map[string]int{}
	relu := map[string]bool{}
	for _, n := range gp.Node {
		for _, in := range n.Input {
			uses[in]++
			if n.GetOpType() == "Relu" && (n.GetDomain() == "" || n.GetDomain() == "ai.onnx") {
				relu[in] = true
			}
		}
	}
	for _, out := range gp.Output {
		uses[out.GetName()]++
	}
	sole := map[string]bool{}
	for name := range relu {
		if uses[name] == 1 {
			sole[name] = true
		}
	}
	return sole
}

// checkTied refuses initializers shared by several nodes unless asked to train them tied.
func (m *Model) checkTied(gp *pb.GraphProto, o Options) error {
	tied := onnx.Tied(gp)
	if len(tied) == 0 {
		return nil
	}
	if !o.AllowTied {
		return errorf("initializers %v each feed several nodes: PyTorch's exporter merges initializers holding identical values (e.g. every freshly initialised BatchNorm weight = 1) into one, and trained as-is those layers would share one tensor; re-export from a model whose values differ (any trained checkpoint, or perturb them before export), or set Options.AllowTied to train them tied", tied)
	}
	m.warnings = append(m.warnings, fmt.Sprintf("initializers %v are shared by several nodes and are trained tied (Options.AllowTied)", tied))
	return nil
}

func (m *Model) frozen(name string, o Options) bool {
	for _, p := range o.Freeze {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// addNode folds or lowers one node and records its outputs.
func (m *Model) addNode(c *nodeCtx) error {
	n := c.n
	if d := n.GetDomain(); d != "" && d != "ai.onnx" {
		return c.unsupported(fmt.Sprintf("op domain %q", d), "only the default ONNX domain is supported; re-export without custom ops")
	}
	impl, ok := opTable[n.GetOpType()]
	if !ok {
		return c.unsupported("op type "+n.GetOpType(), "see docs/import.md for the supported ops; re-export the model without it or replace it with supported ops")
	}
	in := make([]value, len(n.Input))
	allKonst := true
	for i, name := range n.Input {
		if name == "" {
			continue // an omitted optional input
		}
		v, ok := m.values[name]
		if !ok {
			return c.errf("input %q is produced by no earlier node (nodes must be in topological order)", name)
		}
		if v.unavailable != "" {
			return c.unsupported(fmt.Sprintf("input %q", name), v.unavailable)
		}
		in[i] = v
		if v.node != nil {
			allKonst = false
		}
	}
	var outs []value
	var err error
	switch {
	case impl.fold != nil && (allKonst || impl.shapeOnly):
		outs, err = impl.fold(c, in)
	case impl.lower != nil:
		outs, err = impl.lower(c, in)
	default:
		return c.unsupported("this op on a tensor computed at run time",
			"the importer folds it only when all its inputs are known at import time (shapes, initializers, Constants)")
	}
	if err != nil {
		return err
	}
	for i, name := range n.Output {
		if name == "" {
			continue
		}
		v := unavailable(fmt.Sprintf("output %d of %s is not computed by the importer", i, o2s(n)))
		if i < len(outs) {
			v = outs[i]
		}
		if v.unavailable != "" {
			v.by = n
		}
		m.values[name] = v
	}
	return nil
}

func o2s(n *pb.NodeProto) string { return fmt.Sprintf("%q (%s)", nodeName(n), n.GetOpType()) }
