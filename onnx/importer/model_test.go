package importer

import (
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

func readTiny(t testing.TB) *pb.ModelProto {
	t.Helper()
	mp, err := onnx.ReadFile(filepath.Join(testenv.RepoRoot(t), "onnx/testdata/tiny_torchvision.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

func TestTinyTorchvisionForward(t *testing.T) {
	mp := readTiny(t)
	feeds := map[string]feed{"input": randFeed(3, 2, 3, 32, 32)}
	// The export lists BatchNorm's running-statistic outputs, so onnxruntime runs it in
	// training mode (batch statistics); its inference form runs with running statistics.
	compareORTModel(t, mp, mp, feeds, Options{Phase: &ops.Phase{Training: true}}, 1e-5)
	inf, err := InferenceForm(mp)
	if err != nil {
		t.Fatal(err)
	}
	compareORTModel(t, mp, inf, feeds, Options{}, 1e-5)
}

// runOnce runs a fresh machine over the model's graph once.
func runOnce(t testing.TB, m *Model) {
	t.Helper()
	vm := G.NewTapeMachine(m.Graph)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
}

func statsOf(m *Model) [][]float64 {
	var s [][]float64
	for _, bn := range m.BatchNorms() {
		s = append(s, Float64s(bn.State.Mean), Float64s(bn.State.Var))
	}
	return s
}

func sameStats(a, b [][]float64) bool {
	for i := range a {
		for j := range a[i] {
			if math.Abs(a[i][j]-b[i][j]) > 1e-6*math.Max(1, math.Abs(b[i][j])) {
				return false
			}
		}
	}
	return true
}

// Train → eval → train on one imported graph keeps the running statistics; evaluation
// uses them (onnxruntime on the written-back model agrees); training continues from them
// exactly as a fresh import of the written-back model does.
func TestModeSwitchingKeepsRunningStats(t *testing.T) {
	mp := readTiny(t)
	x := map[string]feed{"input": randFeed(5, 4, 3, 32, 32)}
	m, err := Import(mp, Options{InputShapes: shapesOf(x)})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := m.Output("output")
	bindFeeds(t, m, x)
	s0 := statsOf(m)

	m.SetTraining(true)
	runOnce(t, m)
	s1 := statsOf(m)
	if sameStats(s0, s1) {
		t.Fatal("a training run did not update the running statistics")
	}

	m.SetTraining(false)
	runOnce(t, m) // a new machine must not reset the statistics, nor may evaluation change them
	if !sameStats(statsOf(m), s1) {
		t.Fatal("an evaluation run (with a new machine) changed the running statistics")
	}
	evalOut := Float64s(out.Value())
	wb, err := m.WriteBack()
	if err != nil {
		t.Fatal(err)
	}
	inf, err := InferenceForm(wb)
	if err != nil {
		t.Fatal(err)
	}
	want := runORT(t, inf, x)["output"]
	if _, rel := maxRelErr(evalOut, want); rel > 1e-5 {
		t.Fatalf("eval output vs onnxruntime on the written-back model: rel error %.3g", rel)
	}

	m.SetTraining(true)
	runOnce(t, m)
	s2 := statsOf(m)
	m2, err := Import(wb, Options{InputShapes: shapesOf(x), Phase: &ops.Phase{Training: true}})
	if err != nil {
		t.Fatal(err)
	}
	bindFeeds(t, m2, x)
	runOnce(t, m2)
	if sameStats(s1, s2) || !sameStats(s2, statsOf(m2)) {
		t.Fatal("the second training run did not continue from the kept statistics")
	}
}

func TestWriteBackRoundTrip(t *testing.T) {
	mp := readTiny(t)
	m, err := Import(mp, Options{InputShapes: map[string][]int{"input": {1, 3, 32, 32}}})
	if err != nil {
		t.Fatal(err)
	}
	// Change every parameter and statistic as training would.
	for _, p := range m.Params() {
		d := p.Node.Value().Data().([]float32)
		for i := range d {
			d[i] = d[i]*1.5 + 0.25
		}
	}
	for _, bn := range m.BatchNorms() {
		v := bn.State.Var.Data().([]float32)
		for i := range v {
			v[i] += 2
		}
	}
	wb, err := m.WriteBack()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trained.onnx")
	if err := onnx.WriteFile(path, wb); err != nil {
		t.Fatal(err)
	}
	back, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params() {
		got, err := onnx.Floats(onnx.Initializer(back.Graph, p.Name))
		if err != nil {
			t.Fatal(err)
		}
		want := p.Node.Value().Data().([]float32)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("%s[%d] = %v after write-back, want %v", p.Name, i, got[i], want[i])
			}
		}
	}
	bn := m.BatchNorms()[0]
	if got, _ := onnx.Floats(onnx.Initializer(back.Graph, bn.Var)); got[0] != bn.State.Var.Data().([]float32)[0] {
		t.Fatalf("%s not written back", bn.Var)
	}
	orig, _ := onnx.Floats(onnx.Initializer(mp.Graph, "conv1.weight"))
	if now, _ := onnx.Floats(onnx.Initializer(mp.Graph, "conv1.weight")); now[0] != orig[0] {
		t.Fatal("WriteBack modified the imported model")
	}
	if len(back.Graph.Initializer) != len(mp.Graph.Initializer) || len(back.Graph.Node) != len(mp.Graph.Node) {
		t.Fatal("WriteBack changed the graph's structure")
	}
	testenv.CheckModel(t, path)
	if _, err := Import(back, Options{InputShapes: map[string][]int{"input": {1, 3, 32, 32}}}); err != nil {
		t.Fatalf("the written-back model does not import again: %v", err)
	}
}

// Gorgonia merges nodes with equal op hash and children. Two BatchNorms on one input (even
// with shared scale and bias), Softmax and LogSoftmax of one input, and two Dropouts of one
// input must stay distinct nodes.
func TestNodesAreNotMerged(t *testing.T) {
	g := newGraph(13).input("x", 2, 3, 2, 2)
	g.param("s", 1, 0.5, 1.5, 3).param("b", 2, -1, 1, 3)
	g.init(onnx.FromFloats("m1", []int{3}, []float32{0, 0, 0})).init(onnx.FromFloats("v1", []int{3}, []float32{1, 1, 1}))
	g.init(onnx.FromFloats("m2", []int{3}, []float32{1, -1, 2})).init(onnx.FromFloats("v2", []int{3}, []float32{4, 4, 4}))
	g.node("BatchNormalization", []string{"x", "s", "b", "m1", "v1"}, []string{"bn1"})
	g.node("BatchNormalization", []string{"x", "s", "b", "m2", "v2"}, []string{"bn2"})
	g.node("Softmax", []string{"x"}, []string{"sm"}, i1("axis", 1))
	g.node("LogSoftmax", []string{"x"}, []string{"lsm"}, i1("axis", 1))
	g.node("Dropout", []string{"x"}, []string{"d1"})
	g.node("Dropout", []string{"x"}, []string{"d2"})
	g.output("bn1", "bn2", "sm", "lsm", "d1", "d2")
	mp := g.model()
	fs := map[string]feed{"x": randFeed(3, 2, 3, 2, 2)}

	// Evaluation: BatchNorms and softmaxes against onnxruntime (Dropout is the identity).
	compareORT(t, mp, fs, Options{AllowTied: true}, 1e-5)

	got, m := runImport(t, mp, fs, Options{AllowTied: true, Phase: &ops.Phase{Training: true}})
	d1, d2 := got["d1"], got["d2"]
	differ := false
	for i := range d1 {
		x := float64(fs["x"].data[i])
		for _, d := range []float64{d1[i], d2[i]} {
			if d != 0 && math.Abs(d-2*x) > 1e-6 { // kept values are scaled by 1/(1−0.5)
				t.Fatalf("dropout output %v for input %v: want 0 or %v", d, x, 2*x)
			}
		}
		differ = differ || d1[i] != d2[i]
	}
	if !differ {
		t.Error("two Dropouts of one input gave the same mask: merged or equally seeded")
	}
	for _, pair := range [][2]string{{"bn1", "bn2"}, {"sm", "lsm"}, {"d1", "d2"}} {
		a, _ := m.Output(pair[0])
		b, _ := m.Output(pair[1])
		if a == b {
			t.Errorf("%s and %s were merged into one node", pair[0], pair[1])
		}
	}
}

func TestFreezeAndLearnables(t *testing.T) {
	mp := readTiny(t)
	m, err := Import(mp, Options{InputShapes: map[string][]int{"input": {1, 3, 32, 32}}, Freeze: []string{"conv1.", "bn1."}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range m.Params() {
		names = append(names, p.Name)
		if p.Frozen != (strings.HasPrefix(p.Name, "conv1.") || strings.HasPrefix(p.Name, "bn1.")) {
			t.Errorf("%s: Frozen = %v", p.Name, p.Frozen)
		}
	}
	// Stable order: the model's initializer order, running statistics excluded.
	want := []string{"conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv1.weight"}
	for i, w := range want {
		if names[i] != w {
			t.Fatalf("Params order = %v, want it to start %v", names, want)
		}
	}
	if len(names) != 14 || len(m.Learnables()) != 11 {
		t.Fatalf("%d params (want 14), %d learnable (want 11)", len(names), len(m.Learnables()))
	}
	// Gradients reach exactly the learnables.
	out, _ := m.Output("output")
	loss, err := ops.ReduceSum(out, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := G.Grad(loss, m.Learnables()...); err != nil {
		t.Fatal(err)
	}
	bindFeeds(t, m, map[string]feed{"input": randFeed(1, 1, 3, 32, 32)})
	m.SetTraining(true)
	runOnce(t, m)
	for _, p := range m.Params() {
		_, err := p.Node.Grad()
		if (err == nil) == p.Frozen {
			t.Errorf("%s (frozen %v): gradient error %v", p.Name, p.Frozen, err)
		}
	}
}

func TestTiedInitializers(t *testing.T) {
	mp := readTiny(t)
	for _, n := range mp.Graph.Node {
		if n.GetOpType() == "BatchNormalization" && n.Input[1] != "bn1.weight" {
			n.Input[1] = "layer1.0.bn1.weight" // as PyTorch's exporter does for equal values
		}
	}
	_, err := Import(mp, Options{InputShapes: map[string][]int{"input": {1, 3, 32, 32}}})
	if err == nil || !strings.Contains(err.Error(), "[layer1.0.bn1.weight]") || !strings.Contains(err.Error(), "AllowTied") {
		t.Fatalf("got %v, want an error naming layer1.0.bn1.weight and AllowTied", err)
	}
	m, err := Import(mp, Options{InputShapes: map[string][]int{"input": {1, 3, 32, 32}}, AllowTied: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Warnings()) != 1 || !strings.Contains(m.Warnings()[0], "tied") {
		t.Fatalf("warnings = %v", m.Warnings())
	}
}

// Two imports in one graph: an encoder and a copy of it (MoCo's key encoder), the second
// taking an existing node as input. Prefixes keep them apart; a reused prefix is refused.
func TestTwoImportsOneGraph(t *testing.T) {
	mp := readTiny(t)
	g := G.NewGraph()
	phase := &ops.Phase{}
	shapes := map[string][]int{"input": {2, 3, 32, 32}}
	q, err := Import(mp, Options{Graph: g, Prefix: "q/", InputShapes: shapes, Phase: phase})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := q.Input("input")
	k, err := Import(mp, Options{Graph: g, Prefix: "k/", InputNodes: map[string]*G.Node{"input": in}, Phase: phase, Freeze: []string{""}})
	if err != nil {
		t.Fatal(err)
	}
	if len(k.Learnables()) != 0 || len(q.Learnables()) != 14 {
		t.Fatalf("learnables: q %d, k %d", len(q.Learnables()), len(k.Learnables()))
	}
	qo, _ := q.Output("output")
	ko, _ := k.Output("output")
	if qo == ko {
		t.Fatal("the two imports were merged")
	}
	// Perturb the key encoder's weights: outputs must differ, so they are separate values.
	d := k.Params()[0].Node.Value().Data().([]float32)
	d[0] += 1
	bindFeeds(t, q, map[string]feed{"input": randFeed(2, 2, 3, 32, 32)})
	runOnce(t, q)
	a, b := Float64s(qo.Value()), Float64s(ko.Value())
	if a[0] == b[0] {
		t.Fatal("key encoder output equals query encoder output after perturbing its weights")
	}
	_, err = Import(mp, Options{Graph: g, Prefix: "q/", InputShapes: shapes})
	if err == nil || !strings.Contains(err.Error(), "different Options.Prefix") {
		t.Fatalf("reusing a prefix: got %v", err)
	}
}

func TestFloat64Import(t *testing.T) {
	mp := readTiny(t)
	fs := map[string]feed{"input": randFeed(4, 2, 3, 32, 32)}
	got, m := runImport(t, mp, fs, Options{Dtype: tensor.Float64})
	if m.Params()[0].Node.Dtype() != tensor.Float64 || m.BatchNorms()[0].State.Mean.Dtype() != tensor.Float64 {
		t.Fatal("float64 import kept float32 values")
	}
	inf, _ := InferenceForm(mp)
	want := runORT(t, inf, fs)["output"]
	if _, rel := maxRelErr(got["output"], want); rel > 1e-5 {
		t.Fatalf("float64 forward vs onnxruntime: rel %.3g", rel)
	}
}

func TestImportErrors(t *testing.T) {
	mp := readTiny(t)
	cases := []struct {
		name string
		o    Options
		edit func(mp *pb.ModelProto)
		want string
	}{
		{"symbolic input", Options{}, nil, `input "input" has shape [N 3 H W] with symbolic dimension 0; fix it in Options.InputShapes`},
		{"wrong rank", Options{InputShapes: map[string][]int{"input": {3, 32, 32}}}, nil, "rank 3"},
		{"wrong channels", Options{InputShapes: map[string][]int{"input": {1, 4, 32, 32}}}, nil, "dimension 1 is fixed at 3"},
		{"unknown input", Options{InputShapes: map[string][]int{"input": {1, 3, 32, 32}, "img": {1}}}, nil, `"img", which is not a graph input`},
		{"int8 dtype", Options{Dtype: tensor.Int8, InputShapes: map[string][]int{"input": {1, 3, 32, 32}}}, nil, "Dtype int8 is not supported"},
		{"storage_order", Options{InputShapes: map[string][]int{"input": {1, 3, 32, 32}}}, func(mp *pb.ModelProto) {
			for _, n := range mp.Graph.Node {
				if n.GetOpType() == "MaxPool" {
					n.Attribute = append(n.Attribute, onnx.IntAttr("storage_order", 1))
				}
			}
		}, `node "/maxpool/MaxPool" (MaxPool, opset 13): attribute storage_order=1 not supported`},
		{"custom domain", Options{InputShapes: map[string][]int{"input": {1, 3, 32, 32}}}, func(mp *pb.ModelProto) {
			d := "com.microsoft"
			mp.Graph.Node[2].Domain = &d
		}, `op domain "com.microsoft" not supported`},
		{"BN output used", Options{InputShapes: map[string][]int{"input": {1, 3, 32, 32}}}, func(mp *pb.ModelProto) {
			mp.Graph.Node[2].Input[0] = "/bn1/BatchNormalization_output_1"
		}, "running-statistic outputs are not computed"},
		{"1-D conv", Options{InputShapes: map[string][]int{"input": {1, 3, 32}}}, func(mp *pb.ModelProto) {
			mp.Graph.Input[0] = onnx.ValueInfo("input", pb.TensorProto_FLOAT, onnx.Dim{Param: "N"}, onnx.Dim{Value: 3}, onnx.Dim{Param: "L"})
		}, "only 2-D convolutions"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := mp
			if c.edit != nil {
				m = readTiny(t)
				c.edit(m)
			}
			_, err := Import(m, c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v\nwant an error containing %q", err, c.want)
			}
		})
	}
	var ue *UnsupportedError
	m := readTiny(t)
	m.Graph.Node[2].OpType = ptr("Selu")
	if _, err := Import(m, Options{InputShapes: map[string][]int{"input": {1, 3, 32, 32}}}); !errors.As(err, &ue) || ue.Op != "Selu" || ue.Opset != 13 {
		t.Fatalf("unsupported op: got %v, want an *UnsupportedError for Selu at opset 13", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestFoldedBatchNormWarning(t *testing.T) {
	g := newGraph(13).input("x", 1, 3, 8, 8)
	g.param("w", 1, -1, 1, 4, 3, 3, 3).param("b", 2, -1, 1, 4)
	g.node("Conv", []string{"x", "w", "b"}, []string{"c"}, ia("pads", 1, 1, 1, 1))
	g.node("Relu", []string{"c"}, []string{"y"})
	g.output("y")
	m, err := Import(g.model(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if w := m.Warnings(); len(w) != 1 || !strings.Contains(w[0], "folded") || !strings.Contains(w[0], "TrainingMode.PRESERVE") {
		t.Fatalf("warnings = %v, want the folded-BatchNorm warning", w)
	}
	if m2, _ := Import(readTiny(t), Options{InputShapes: map[string][]int{"input": {1, 3, 32, 32}}}); len(m2.Warnings()) != 0 {
		t.Fatalf("a model with BatchNorm warns: %v", m2.Warnings())
	}
}
