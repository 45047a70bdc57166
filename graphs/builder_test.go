package graphs

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/onnx"
)

func TestBuilderStickyError(t *testing.T) {
	b := NewBuilder(0)
	x := b.Input("x", onnx.Dim{Value: 1}, onnx.Dim{Value: 3}, onnx.Dim{Value: 8}, onnx.Dim{Value: 8})
	y := b.Conv2d("conv", x, 3, 4, Conv{Kernel: 3, Pad: 1})
	b.Conv2d("conv", y, 4, 4, Conv{Kernel: 3, Pad: 1}) // duplicate name: the first error
	z := b.Relu("relu", y)                             // ignored from here on
	b.Output(z)
	if z.Name != "" {
		t.Errorf("after an error, layers return the zero Tensor, got %q", z.Name)
	}
	_, err := b.Graph("g")
	if err == nil || err.Error() != `graphs: name "conv.weight" used twice` {
		t.Fatalf("Graph error = %v, want the first error", err)
	}
}

func TestBuilderErrors(t *testing.T) {
	cases := []struct {
		name  string
		build func(b *Builder, x Tensor)
		want  string
	}{
		{"unknown input", func(b *Builder, x Tensor) { b.Relu("r", Tensor{"nope"}) }, `node "r" (Relu): input 0 "nope" is not a value`},
		{"groups", func(b *Builder, x Tensor) { b.Conv2d("c", x, 3, 4, Conv{Kernel: 3, Groups: 2}) }, `conv "c": kernel 3, channels 3→4, groups 2`},
		{"zero kernel", func(b *Builder, x Tensor) { b.Conv2d("c", x, 3, 4, Conv{}) }, `conv "c": kernel 0`},
		{"linear", func(b *Builder, x Tensor) { b.Linear("fc", x, 0, 4, true) }, `linear "fc": features 0→4`},
		{"bins", func(b *Builder, x Tensor) { b.AdaptiveAvgPool2d("p", x, 0) }, `adaptive pool "p": 0 bins`},
		{"const", func(b *Builder, x Tensor) { b.Const("k", []int{2}, []float32{1}) }, `constant "k": shape [2] needs 2 values, got 1`},
		{"output", func(b *Builder, x Tensor) { b.Output(Tensor{"nope"}) }, `output "nope" is not a value`},
		{"rename", func(b *Builder, x Tensor) { b.Rename(x, "x") }, `name "x" used twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := NewBuilder(0)
			c.build(b, b.Input("x", onnx.Dim{Value: 1}, onnx.Dim{Value: 3}, onnx.Dim{Value: 8}, onnx.Dim{Value: 8}))
			if err := b.Err(); err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "graphs: ") {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestRenameRewritesConsumers(t *testing.T) {
	b := NewBuilder(0)
	x := b.Input("x", onnx.Dim{Value: 1}, onnx.Dim{Value: 2})
	r := b.Relu("r", x)
	s := b.Relu("s", r)
	r = b.Rename(r, "renamed")
	b.Output(r)
	b.Output(s)
	g, err := b.Graph("g")
	if err != nil {
		t.Fatal(err)
	}
	if g.Node[0].Output[0] != "renamed" || g.Node[1].Input[0] != "renamed" || g.Output[0].GetName() != "renamed" {
		t.Fatalf("rename did not reach producer, consumer and output: %v / %v", g.Node, g.Output)
	}
}

func TestSpecErrors(t *testing.T) {
	ok := Spec{Encoder: ResNet18, Head: HeadFCN, Classes: 21}
	cases := []struct {
		change func(*Spec)
		want   string
	}{
		{func(s *Spec) { s.Encoder = "resnet101" }, `unknown encoder "resnet101"`},
		{func(s *Spec) { s.OutputStride = 4 }, "output stride 4; want 32, 16 or 8"},
		{func(s *Spec) { s.Width = -1 }, "width -1"},
		{func(s *Spec) { s.Width = math.NaN() }, "width NaN"},
		{func(s *Spec) { s.Head = "unet" }, `unknown head "unet"`},
		{func(s *Spec) { s.Classes = 0 }, "head fcn needs exactly one of classes (got 0) and decoder width (got 0)"},
		{func(s *Spec) { s.DecoderWidth = 64 }, "head fcn needs exactly one of classes (got 21) and decoder width (got 64)"},
		{func(s *Spec) { s.Classes = -3 }, "classes -3 is negative"},
		{func(s *Spec) { s.Head = HeadNone }, "classes 21 / decoder width 0 given without a head"},
		{func(s *Spec) { s.Head = HeadClassifier; s.Classes = 0 }, "head classifier needs classes > 0"},
		{func(s *Spec) { s.Pretext.Projector = "simclr3" }, `unknown projector "simclr3"`},
		{func(s *Spec) { s.Pretext.Rotation = true }, "need a decoder"},
		{func(s *Spec) { s.Classes = 0; s.DecoderWidth = 8; s.Pretext.OnDecoder = true }, "no projector or dense projector"},
		{func(s *Spec) { s.Outputs = []string{ClassLogits} }, `spec: output "class_logits" is not produced by this model`},
	}
	for _, c := range cases {
		s := ok
		c.change(&s)
		_, err := Build(s)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "graphs: ") {
			t.Errorf("%+v: error %v, want one containing %q", s, err, c.want)
		}
	}
	if _, err := Build(ok); err != nil {
		t.Fatalf("the valid spec fails: %v", err)
	}
}

// Initial values have PyTorch's distributions, depend on the seed, and an encoder's do not
// depend on the heads built after it.
func TestInitialisation(t *testing.T) {
	m := mustBuild(t, Spec{Encoder: ResNet18, Head: HeadClassifier, Classes: 1000, Seed: 7})
	g := m.Graph
	check := func(name string, wantMean, wantStd float64) {
		t.Helper()
		v := floats(t, g, name)
		var sum, sq float64
		for _, x := range v {
			sum += float64(x)
			sq += float64(x) * float64(x)
		}
		mean := sum / float64(len(v))
		std := math.Sqrt(sq/float64(len(v)) - mean*mean)
		if math.Abs(mean-wantMean) > 0.05*wantStd+1e-9 || math.Abs(std-wantStd) > 0.03*wantStd+1e-9 {
			t.Errorf("%s: mean %.4g std %.4g, want %.4g and %.4g", name, mean, std, wantMean, wantStd)
		}
	}
	check("layer3.0.conv2.weight", 0, math.Sqrt(2.0/(256*9))) // Kaiming normal, fan_out = 256·3·3
	check("conv1.weight", 0, math.Sqrt(2.0/(64*49)))
	check("fc.weight", 0, 1/math.Sqrt(512)/math.Sqrt(3)) // U(±1/√512) has std bound/√3
	check("bn1.weight", 1, 0)
	check("layer1.1.bn2.bias", 0, 0)
	check("layer4.1.bn2.running_var", 1, 0)
	for _, x := range floats(t, g, "fc.bias") {
		if math.Abs(float64(x)) > 1/math.Sqrt(512) {
			t.Fatalf("fc.bias %v outside U(±1/√512)", x)
		}
	}

	other := mustBuild(t, Spec{Encoder: ResNet18, OutputStride: 8, Head: HeadPSP, Classes: 3, Seed: 7})
	reseeded := mustBuild(t, Spec{Encoder: ResNet18, Head: HeadClassifier, Classes: 1000, Seed: 8})
	a, b, c := floats(t, g, "layer2.1.conv1.weight"), floats(t, other.Graph, "layer2.1.conv1.weight"), floats(t, reseeded.Graph, "layer2.1.conv1.weight")
	if !slices.Equal(a, b) {
		t.Error("the same seed gives a different encoder under another head")
	}
	if slices.Equal(a, c) {
		t.Error("another seed gives the same weights")
	}
	// mmseg's classifier conv is N(0, 0.01²) with bias 0; NonLocal's conv_out BN starts at 0.
	nl := mustBuild(t, Spec{Encoder: ResNet18, Head: HeadNonLocal, Classes: 21, Seed: 7}).Graph
	check2 := func(name string, mean, std float64) {
		t.Helper()
		g = nl
		check(name, mean, std)
	}
	check2("head.conv_seg.weight", 0, 0.01)
	check2("head.nl_block.g.conv.weight", 0, 0.01)
	check2("head.nl_block.conv_out.bn.weight", 0, 0)
	check2("head.conv_seg.bias", 0, 0)
}

// Analyze reports a wrong graph with the node and the numbers.
func TestAnalyzeErrors(t *testing.T) {
	b := NewBuilder(0)
	x := b.Input("x", onnx.Dim{Param: "N"}, onnx.Dim{Value: 3}, onnx.Dim{Param: "H"}, onnx.Dim{Param: "W"})
	y := b.Conv2d("conv", x, 3, 8, Conv{Kernel: 3})
	y = b.Conv2d("bad", y, 16, 4, Conv{Kernel: 1}) // wants 16 channels, gets 8
	b.Output(y)
	g, err := b.Graph("g")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Analyze(g, map[string][]int{"x": {1, 3, 9, 9}})
	if err == nil || !strings.Contains(err.Error(), `node "bad" (Conv): input has 8 channels, want 16`) {
		t.Errorf("got %v", err)
	}
	_, err = Analyze(g, map[string][]int{"x": {1, 3, 2, 9}})
	if err == nil || !strings.Contains(err.Error(), `node "conv" (Conv): input length 2 (padded 2) is shorter than the window 3`) {
		t.Errorf("got %v", err)
	}
	if _, err := Analyze(g, nil); err == nil || !strings.Contains(err.Error(), `no shape given for graph input "x"`) {
		t.Errorf("got %v", err)
	}
	m := mustBuild(t, Spec{Encoder: ResNet18, Width: 0.125})
	if _, err := Measure(m, 1, 0, 5); err == nil || !strings.Contains(err.Error(), "input size 1×3×0×5") {
		t.Errorf("got %v", err)
	}
}
