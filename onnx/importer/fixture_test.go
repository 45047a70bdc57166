package importer

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

// Fixtures exported by PyTorch (scripts/gen_importer_golden.py; see testdata/README.md).

func readFixture(t testing.TB, name string) *pb.ModelProto {
	t.Helper()
	mp, err := onnx.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

// Forward parity with onnxruntime, in both modes: training (the export lists BatchNorm's
// extra outputs, so onnxruntime uses batch statistics) and evaluation (InferenceForm).
func TestFixturesForward(t *testing.T) {
	cases := []struct {
		file  string
		feeds map[string]feed
	}{
		{"resnet_small.onnx", feeds("input", randFeed(1, 2, 3, 32, 32))},
		{"resnet_small.onnx", feeds("input", randFeed(2, 3, 3, 40, 24))},
		{"fcn_small.onnx", feeds("input", randFeed(3, 2, 3, 20, 28))},
		{"fcn_small.onnx", feeds("input", randFeed(4, 1, 3, 17, 23))}, // sizes folded from Shape again
		{"pools_small.onnx", feeds("input", randFeed(5, 2, 3, 16, 12))},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			mp := readFixture(t, c.file)
			compareORTModel(t, mp, mp, c.feeds, Options{Phase: &ops.Phase{Training: true}}, 1e-5)
			inf, err := InferenceForm(mp)
			if err != nil {
				t.Fatal(err)
			}
			compareORTModel(t, mp, inf, c.feeds, Options{}, 1e-5)
		})
	}
}

// readGolden loads a golden file: an ONNX model holding only initializers.
func readGolden(t testing.TB, name string) map[string]*pb.TensorProto {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m pb.ModelProto
	if err := proto.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return onnx.Initializers(m.Graph)
}

func goldenFloats(t testing.TB, gold map[string]*pb.TensorProto, name string) []float64 {
	t.Helper()
	tp, ok := gold[name]
	if !ok {
		t.Fatalf("golden has no %q", name)
	}
	if pb.TensorProto_DataType(tp.GetDataType()) == pb.TensorProto_DOUBLE {
		f, err := float64s(tp)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	f, err := onnx.Floats(tp)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(f))
	for i, v := range f {
		out[i] = float64(v)
	}
	return out
}

func goldenNode(t testing.TB, g *G.ExprGraph, gold map[string]*pb.TensorProto, name string) *G.Node {
	t.Helper()
	shape := onnx.Shape(gold[name])
	v := tensor.New(tensor.WithShape(shape...), tensor.WithBacking(goldenFloats(t, gold, name)))
	return G.NewTensor(g, tensor.Float64, len(shape), G.WithShape(shape...), G.WithValue(v), G.WithName("golden/"+name))
}

// relErr is the largest |got − want| relative to the largest |want| of the tensor.
func relErr(got, want []float64) float64 {
	_, rel := maxRelErr(got, want)
	return rel
}

// One training step of a whole model against PyTorch autograd in float64: the loss, every
// parameter's gradient (BatchNorm with batch statistics), and the running statistics after
// the step (momentum 0.1, unbiased variance).
func TestWholeModelGradientsMatchPyTorch(t *testing.T) {
	// The acceptance bound is 1e-3. Float64 on both sides agrees to ~1e-15, except where ops
	// computes in float32 on purpose (Resize coordinates, as onnxruntime does): ~3e-7, and
	// where the export's own constants are float32 while PyTorch's are exact (GELU's √2,
	// attention's 1/√d, LayerNorm's ε): ConvNeXt 3e-8, ViT 8e-8.
	const tol = 1e-6
	cases := []struct {
		model, golden string
		loss          func(t *testing.T, m *Model, gold map[string]*pb.TensorProto) *G.Node
	}{
		{"resnet_small.onnx", "resnet_small_golden.pb", func(t *testing.T, m *Model, gold map[string]*pb.TensorProto) *G.Node {
			out, _ := m.Output("output")
			return sumProduct(t, out, goldenNode(t, m.Graph, gold, "target"))
		}},
		{"fcn_small.onnx", "fcn_small_golden.pb", func(t *testing.T, m *Model, gold map[string]*pb.TensorProto) *G.Node {
			out, _ := m.Output("output")
			aux, _ := m.Output("aux")
			ce, err := ops.SoftmaxCrossEntropy(out, goldenNode(t, m.Graph, gold, "target"), 255)
			if err != nil {
				t.Fatal(err)
			}
			l, err := G.Add(ce, sumProduct(t, aux, goldenNode(t, m.Graph, gold, "target_aux")))
			if err != nil {
				t.Fatal(err)
			}
			return l
		}},
		// The ConvNeXt-style and ViT-style family fixtures (scripts/gen_families_golden.py):
		// LayerNorm decomposed (opset 13) and as one node (17), GELU through Erf, depthwise
		// 7×7 convs, layer scale, class token, attention, position embedding.
		{"families/convnext.onnx", "families/convnext_golden.pb", sumProductLoss},
		{"families/vit.onnx", "families/vit_golden.pb", sumProductLoss},
	}
	for _, c := range cases {
		t.Run(c.model, func(t *testing.T) {
			gold := readGolden(t, c.golden)
			x := gold["input"]
			xf, _ := onnx.Floats(x)
			fs := feeds("input", feed{onnx.Shape(x), xf})
			m, err := Import(readFixture(t, c.model), Options{InputShapes: shapesOf(fs), Dtype: tensor.Float64, Phase: &ops.Phase{Training: true}})
			if err != nil {
				t.Fatal(err)
			}
			loss := c.loss(t, m, gold)
			if _, err := G.Grad(loss, m.Learnables()...); err != nil {
				t.Fatal(err)
			}
			bindFeeds(t, m, fs)
			vm := G.NewTapeMachine(m.Graph)
			defer vm.Close()
			if err := vm.RunAll(); err != nil {
				t.Fatal(err)
			}
			if got, want := Float64s(loss.Value())[0], goldenFloats(t, gold, "loss")[0]; math.Abs(got-want) > tol*math.Max(1, math.Abs(want)) {
				t.Errorf("loss %.12g, PyTorch %.12g", got, want)
			}
			worst, worstName := 0.0, ""
			for _, p := range m.Params() {
				gv, err := p.Node.Grad()
				if err != nil {
					t.Fatalf("%s: %v", p.Name, err)
				}
				if e := relErr(Float64s(gv), goldenFloats(t, gold, "grad/"+p.Name)); e > worst || math.IsNaN(e) {
					worst, worstName = e, p.Name
				}
			}
			for _, bn := range m.BatchNorms() {
				for _, s := range []struct {
					name string
					v    *tensor.Dense
				}{{bn.Mean, bn.State.Mean}, {bn.Var, bn.State.Var}} {
					if e := relErr(Float64s(s.v), goldenFloats(t, gold, "running/"+s.name)); e > worst || math.IsNaN(e) {
						worst, worstName = e, s.name
					}
				}
			}
			t.Logf("%d parameters, %d BatchNorms: worst relative error %.3g (%s)", len(m.Params()), len(m.BatchNorms()), worst, worstName)
			if worst > tol || math.IsNaN(worst) {
				t.Errorf("%s differs from PyTorch: relative error %.3g > %g", worstName, worst, tol)
			}
		})
	}
}

// sumProductLoss is Σ output ⊙ target, the golden files' loss.
func sumProductLoss(t *testing.T, m *Model, gold map[string]*pb.TensorProto) *G.Node {
	out, err := m.Output("output")
	if err != nil {
		t.Fatal(err)
	}
	return sumProduct(t, out, goldenNode(t, m.Graph, gold, "target"))
}

// sumProduct is Σ a ⊙ b as a scalar.
func sumProduct(t *testing.T, a, b *G.Node) *G.Node {
	t.Helper()
	p, err := ops.Mul(a, b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ops.ReduceSum(p, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
