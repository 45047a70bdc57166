package export

import (
	"errors"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
	"github.com/ssl4dp/ssl4dp/ops"
)

// initORT loads the test library, or skips (fails under SSL4DP_STRICT=1) without one.
func initORT(t testing.TB) {
	t.Helper()
	lib := testenv.ORTLibrary(t)
	if err := ort.Init(lib); errors.Is(err, ort.ErrNoCgo) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
}

// segSpec is a small segmentation network: ResNet-18 at width 1/8, output stride 16, MoCo's
// FCN head, 3 classes.
var segSpec = graphs.Spec{Encoder: graphs.ResNet18, OutputStride: 16, Width: 0.125, Head: graphs.HeadFCN, Classes: 3, Seed: 1}

var (
	trainedOnce sync.Once
	trainedSeg  *pb.ModelProto
	trainedErr  error
)

// trained returns segSpec's model after a few SGD steps (training mode, so BatchNorm's
// running statistics move too), written back: weights and statistics differ from their
// initial values, as in a real checkpoint.
func trained(t testing.TB) *pb.ModelProto {
	t.Helper()
	trainedOnce.Do(func() { trainedSeg, trainedErr = trainSteps(segSpec, 3) })
	if trainedErr != nil {
		t.Fatal(trainedErr)
	}
	return trainedSeg
}

// trainSteps builds spec and runs steps of plain SGD (lr 0.05) on cross-entropy against random
// labels for seeded random 2×3×32×48 images.
func trainSteps(spec graphs.Spec, steps int) (*pb.ModelProto, error) {
	mp, err := graphs.Build(spec)
	if err != nil {
		return nil, err
	}
	const n, h, w = 2, 32, 48
	m, err := importer.Import(mp, importer.Options{InputShapes: map[string][]int{graphs.Input: {n, 3, h, w}}, Phase: &ops.Phase{Training: true}})
	if err != nil {
		return nil, err
	}
	logits, err := m.Output(graphs.Logits)
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(3, 4))
	labels := make([]float32, n*h*w)
	for i := range labels {
		labels[i] = float32(r.IntN(spec.Classes))
	}
	lab := G.NewTensor(m.Graph, tensor.Float32, 3, G.WithShape(n, h, w), G.WithName("labels"),
		G.WithValue(tensor.New(tensor.WithShape(n, h, w), tensor.WithBacking(labels))))
	loss, err := ops.SoftmaxCrossEntropy(logits, lab, 255)
	if err != nil {
		return nil, err
	}
	if _, err := G.Grad(loss, m.Learnables()...); err != nil {
		return nil, err
	}
	in, _ := m.Input(graphs.Input)
	x := make([]float32, n*3*h*w)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	if err := G.Let(in, tensor.New(tensor.WithShape(n, 3, h, w), tensor.WithBacking(x))); err != nil {
		return nil, err
	}
	vm := G.NewTapeMachine(m.Graph) // no BindDualValues: it accumulates gradients across runs
	defer vm.Close()
	for s := 0; s < steps; s++ {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			return nil, err
		}
		for _, p := range m.Params() {
			g, err := p.Node.Grad()
			if err != nil {
				return nil, err
			}
			v, gv := p.Node.Value().Data().([]float32), g.Data().([]float32)
			for i := range v {
				v[i] -= 0.05 * gv[i]
			}
		}
	}
	return m.WriteBack()
}

// gorgonia runs the whole model mp (every output) through the importer in evaluation mode
// and returns the named tensor: an independent reference, not export's own.
func gorgonia(t testing.TB, mp *pb.ModelProto, name string, shape []int, x []float32) []float32 {
	t.Helper()
	m, err := importer.Import(mp, importer.Options{InputShapes: map[string][]int{graphs.Input: shape}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.Tensor(name)
	if err != nil {
		t.Fatal(err)
	}
	in, _ := m.Input(graphs.Input)
	if err := G.Let(in, tensor.New(tensor.WithShape(shape...), tensor.WithBacking(append([]float32{}, x...)))); err != nil {
		t.Fatal(err)
	}
	vm := G.NewTapeMachine(m.Graph)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	return append([]float32{}, out.Value().Data().([]float32)...)
}

// onnxruntime runs mp on x and returns its only output.
func onnxruntime(t testing.TB, mp *pb.ModelProto, shape []int, x []float32) ort.Tensor {
	t.Helper()
	b, err := onnx.Encode(mp)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewSession(b, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(map[string]ort.Tensor{graphs.Input: {Shape: ints64(shape), Data: x}})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 1 {
		t.Fatalf("%d outputs, want 1", len(out))
	}
	return out[s.Outputs()[0].Name]
}

// relErr is max|got−want| / max|want|.
func relErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var diff, scale float64
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(d) {
			return math.Inf(1)
		}
		diff = max(diff, d)
		scale = max(scale, math.Abs(float64(want[i])))
	}
	return diff / max(scale, 1e-30)
}

func mustExport(t testing.TB, mp *pb.ModelProto, o Options) *Result {
	t.Helper()
	if o.H == 0 {
		o.H, o.W = 32, 48
	}
	o.ORT.Threads = 1
	r, err := Export(mp, o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func opTypes(m *pb.ModelProto) map[string]int {
	h := map[string]int{}
	for _, n := range m.Graph.Node {
		h[n.GetOpType()]++
	}
	return h
}

func cloneModel(m *pb.ModelProto) *pb.ModelProto { return proto.Clone(m).(*pb.ModelProto) }

func ptr[T any](v T) *T { return &v }
