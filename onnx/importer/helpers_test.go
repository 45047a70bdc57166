package importer

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"google.golang.org/protobuf/proto"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// Test helpers: build small ONNX graphs, run them through onnxruntime and through the
// importer, compare.

// graph collects a test model.
type graph struct {
	opset   int64
	nodes   []*pb.NodeProto
	inits   []*pb.TensorProto
	inputs  []*pb.ValueInfoProto
	outputs []*pb.ValueInfoProto
}

func newGraph(opset int64) *graph { return &graph{opset: opset} }

// node adds a node with attributes; its name is its first output.
func (g *graph) node(op string, inputs, outputs []string, attrs ...*pb.AttributeProto) *graph {
	g.nodes = append(g.nodes, onnx.NewNode(op, outputs[0]+"_node", inputs, outputs, attrs...))
	return g
}

// input declares a float input; -1 dims are symbolic.
func (g *graph) input(name string, dims ...int) *graph {
	var ds []onnx.Dim
	for d, n := range dims {
		if n < 0 {
			ds = append(ds, onnx.Dim{Param: fmt.Sprintf("d%d", d)})
		} else {
			ds = append(ds, onnx.Dim{Value: int64(n)})
		}
	}
	g.inputs = append(g.inputs, onnx.ValueInfo(name, pb.TensorProto_FLOAT, ds...))
	return g
}

// output declares an output of the given element type with unknown shape.
func (g *graph) outputT(name string, dt pb.TensorProto_DataType) *graph {
	elem := int32(dt)
	g.outputs = append(g.outputs, &pb.ValueInfoProto{Name: &name,
		Type: &pb.TypeProto{Value: &pb.TypeProto_TensorType{TensorType: &pb.TypeProto_Tensor{ElemType: &elem}}}})
	return g
}

func (g *graph) output(names ...string) *graph {
	for _, n := range names {
		g.outputT(n, pb.TensorProto_FLOAT)
	}
	return g
}

func (g *graph) init(t *pb.TensorProto) *graph { g.inits = append(g.inits, t); return g }

// param adds a float initializer with seeded values uniform in [lo, hi).
func (g *graph) param(name string, seed int64, lo, hi float32, shape ...int) *graph {
	return g.init(onnx.FromFloats(name, shape, randFloats(seed, numel(shape), lo, hi)))
}

func (g *graph) ints(name string, v ...int64) *graph {
	return g.init(onnx.FromInt64s(name, []int{len(v)}, v))
}

// konst adds a float Constant node: a constant by role, unlike a float initializer, which
// onnx.Roles makes a trainable parameter when it feeds a computation.
func (g *graph) konst(name string, shape []int, v ...float32) *graph {
	return g.node("Constant", nil, []string{name}, onnx.TensorAttr("value", onnx.FromFloats("", shape, v)))
}

func (g *graph) floats(name string, v ...float32) *graph { return g.konst(name, []int{len(v)}, v...) }

// scalar adds an int64 scalar initializer.
func (g *graph) scalar(name string, v int64) *graph {
	return g.init(onnx.FromInt64s(name, nil, []int64{v}))
}

func (g *graph) model() *pb.ModelProto {
	name := "test"
	return &pb.ModelProto{
		IrVersion:   proto.Int64(8),
		OpsetImport: []*pb.OperatorSetIdProto{{Domain: proto.String(""), Version: proto.Int64(g.opset)}},
		Graph:       &pb.GraphProto{Name: &name, Node: g.nodes, Initializer: g.inits, Input: g.inputs, Output: g.outputs},
	}
}

func randFloats(seed int64, n int, lo, hi float32) []float32 {
	r := rand.New(rand.NewSource(seed))
	out := make([]float32, n)
	for i := range out {
		out[i] = lo + (hi-lo)*r.Float32()
	}
	return out
}

// feed is one named input value.
type feed struct {
	shape []int
	data  []float32
}

func randFeed(seed int64, shape ...int) feed {
	return feed{shape, randFloats(seed, numel(shape), -1, 1)}
}

// runORT runs the model in onnxruntime and returns every output as float64.
func runORT(t testing.TB, mp *pb.ModelProto, feeds map[string]feed) map[string][]float64 {
	t.Helper()
	if err := ort.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	b, err := onnx.Encode(mp)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewSession(b, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	in := map[string]ort.Tensor{}
	for name, f := range feeds {
		shape := make([]int64, len(f.shape))
		for d, n := range f.shape {
			shape[d] = int64(n)
		}
		in[name] = ort.Tensor{Shape: shape, Data: f.data}
	}
	out, err := s.Run(in)
	if err != nil {
		t.Fatal(err)
	}
	res := map[string][]float64{}
	for name, v := range out {
		res[name] = toFloat64s(t, v.Data)
	}
	return res
}

func toFloat64s(t testing.TB, data any) []float64 {
	switch d := data.(type) {
	case []float32:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64{}, d...)
	case []int64:
		out := make([]float64, len(d))
		for i, v := range d {
			out[i] = float64(v)
		}
		return out
	case []bool:
		out := make([]float64, len(d))
		for i, v := range d {
			if v {
				out[i] = 1
			}
		}
		return out
	}
	t.Fatalf("unexpected output type %T", data)
	return nil
}

// shapesOf gives the feeds' shapes as Options.InputShapes.
func shapesOf(feeds map[string]feed) map[string][]int {
	s := map[string][]int{}
	for name, f := range feeds {
		s[name] = f.shape
	}
	return s
}

// bindFeeds binds feed values to an imported model's inputs, in its dtype.
func bindFeeds(t testing.TB, m *Model, feeds map[string]feed) {
	t.Helper()
	for name, f := range feeds {
		n, err := m.Input(name)
		if err != nil {
			t.Fatal(err)
		}
		var v *tensor.Dense
		if m.Dtype() == tensor.Float64 {
			d := make([]float64, len(f.data))
			for i, x := range f.data {
				d[i] = float64(x)
			}
			v = tensor.New(tensor.WithShape(f.shape...), tensor.WithBacking(d))
		} else {
			v = tensor.New(tensor.WithShape(f.shape...), tensor.WithBacking(append([]float32{}, f.data...)))
		}
		if err := G.Let(n, v); err != nil {
			t.Fatal(err)
		}
	}
}

// runImport imports mp with the feeds' shapes (plus o), runs one forward pass, and returns
// every graph output as float64.
func runImport(t testing.TB, mp *pb.ModelProto, feeds map[string]feed, o Options) (map[string][]float64, *Model) {
	t.Helper()
	if o.InputShapes == nil {
		o.InputShapes = shapesOf(feeds)
	}
	m, err := Import(mp, o)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := m.Outputs()
	if err != nil {
		t.Fatal(err)
	}
	bindFeeds(t, m, feeds)
	vm := G.NewTapeMachine(m.Graph)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	res := map[string][]float64{}
	for i, name := range m.OutputNames() {
		res[name] = toFloat64s(t, outs[i].Value().Data())
	}
	return res, m
}

// maxRelErr is max |a−b| / max(|b|max, tiny) over all elements: the error relative to the
// reference's scale, which is how the acceptance tolerances are stated.
func maxRelErr(got, want []float64) (abs, rel float64) {
	scale := 0.0
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	for i := range want {
		abs = math.Max(abs, math.Abs(got[i]-want[i]))
	}
	return abs, abs / math.Max(scale, 1e-12)
}

// compareORT imports and runs mp, runs it in onnxruntime, and checks every output.
func compareORT(t *testing.T, mp *pb.ModelProto, feeds map[string]feed, o Options, tol float64) {
	t.Helper()
	compareORTModel(t, mp, mp, feeds, o, tol)
}

// compareORTModel imports mp and compares it with onnxruntime running ref (mp itself, or
// its InferenceForm).
func compareORTModel(t *testing.T, mp, ref *pb.ModelProto, feeds map[string]feed, o Options, tol float64) {
	t.Helper()
	want := runORT(t, ref, feeds)
	got, _ := runImport(t, mp, feeds, o)
	for name, w := range want {
		g := got[name]
		if len(g) != len(w) {
			t.Fatalf("output %q: %d values, onnxruntime gives %d", name, len(g), len(w))
		}
		if abs, rel := maxRelErr(g, w); rel > tol || math.IsNaN(abs) {
			t.Errorf("output %q: max abs error %.3g, rel %.3g > %.0e\n got %v\nwant %v", name, abs, rel, tol, head(g), head(w))
		}
	}
}

func head(v []float64) []float64 {
	if len(v) > 8 {
		return v[:8]
	}
	return v
}
