package pretext

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// encoder.onnx (and decoder.onnx) hold exactly the trained values, and onnxruntime computes
// from encoder.onnx the features the trained network computes in evaluation mode.
func TestOutputsAreTheTrainedEncoder(t *testing.T) {
	for _, method := range []string{"moco", "edmoco"} {
		t.Run(method, func(t *testing.T) {
			task, err := New(method, tinyOptions(32), tinyConfig(t, method))
			if err != nil {
				t.Fatal(err)
			}
			d := buildDriver(t, task, 4, 0.1)
			for _, b := range batches(t, task, 4, 2) {
				d.run(b)
			}
			files, err := task.Outputs()
			if err != nil {
				t.Fatal(err)
			}
			want := []string{ModelFile, EncoderFile}
			if Decoder(method) {
				want = append(want, DecoderFile)
			}
			if got := sortedNames(files); len(got) != len(want) {
				t.Fatalf("outputs %v, want %v", got, want)
			}
			trained := decode(t, files[ModelFile], ModelFile)
			ti := onnx.Initializers(trained.Graph)
			for _, name := range want[1:] {
				m := decode(t, files[name], name)
				n := 0
				for _, init := range m.Graph.Initializer {
					if !isFloat(init) {
						continue
					}
					a, _ := onnx.Floats(init)
					b, _ := onnx.Floats(ti[init.GetName()])
					if !equalFloats(a, b) {
						t.Errorf("%s: %s differs from the trained network's", name, init.GetName())
					}
					n++
				}
				if n == 0 {
					t.Errorf("%s has no float initializers", name)
				}
			}
			enc := decode(t, files[EncoderFile], EncoderFile)
			if outs := outputNames(enc); len(outs) != 2 || outs[0] != graphs.Features || outs[1] != graphs.LowLevel {
				t.Errorf("encoder.onnx outputs %v, want [features low_level]", outs)
			}
			compareWithORT(t, trained, enc, graphs.Features)
			if Decoder(method) {
				compareWithORT(t, trained, decode(t, files[DecoderFile], DecoderFile), graphs.DecoderFeatures)
			}
		})
	}
}

func decode(t *testing.T, b []byte, name string) *pb.ModelProto {
	t.Helper()
	m, err := onnx.Decode(b, name)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func outputNames(m *pb.ModelProto) []string {
	var out []string
	for _, o := range m.Graph.Output {
		out = append(out, o.GetName())
	}
	return out
}

func equalFloats(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// compareWithORT runs part (an extracted model) in onnxruntime and trained through the
// importer in evaluation mode, on the same images, and compares tensor name.
func compareWithORT(t *testing.T, trained, part *pb.ModelProto, name string) {
	t.Helper()
	if err := ort.Init(testenv.ORTLibrary(t)); err != nil {
		t.Fatal(err)
	}
	const n, size = 2, 32
	imgs := randImages(9, n, size)
	b, err := onnx.Encode(part)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewSession(b, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(map[string]ort.Tensor{graphs.Input: {Shape: []int64{n, 3, size, size}, Data: imgs}})
	if err != nil {
		t.Fatal(err)
	}
	got, ok := out[name].Data.([]float32)
	if !ok {
		t.Fatalf("onnxruntime output %q is %T", name, out[name].Data)
	}
	m, err := importer.Import(trained, importer.Options{InputShapes: map[string][]int{graphs.Input: {n, 3, size, size}}})
	if err != nil {
		t.Fatal(err)
	}
	in, _ := m.Input(graphs.Input)
	bind(in, imgs)
	x, err := m.Tensor(name)
	if err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(m.Graph)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	want := x.Value().Data().([]float32)
	var scale float64
	for _, v := range want {
		scale = math.Max(scale, math.Abs(float64(v)))
	}
	if d := maxDiff(got, want); d > 1e-4*math.Max(1, scale) {
		t.Errorf("%s: onnxruntime on the extracted model differs from the trained network by %g (scale %g)", name, d, scale)
	}
}
