package graphs

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// initORT loads the test library, or skips (fails under SSL4DP_STRICT=1) without one.
func initORT(t *testing.T) {
	t.Helper()
	lib := testenv.ORTLibrary(t)
	if err := ort.Init(lib); errors.Is(err, ort.ErrNoCgo) {
		t.Skip(err)
	} else if err != nil {
		t.Fatal(err)
	}
}

func mustBuild(t testing.TB, s Spec) *pb.ModelProto {
	t.Helper()
	m, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// runORT runs m on one float input and returns every output.
func runORT(t testing.TB, m *pb.ModelProto, inputs map[string]ort.Tensor) map[string]ort.Tensor {
	t.Helper()
	data, err := onnx.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewSession(data, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Run(inputs)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// randomInput is a seeded N(0,1) image batch.
func randomInput(n, h, w int, seed uint64) ort.Tensor {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n*3*h*w)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return ort.Tensor{Shape: []int64{int64(n), 3, int64(h), int64(w)}, Data: x}
}

// readTensor reads an ONNX TensorProto file (as onnx.numpy_helper writes them).
func readTensor(t testing.TB, path string) ([]int64, []float32) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tp pb.TensorProto
	if err := proto.Unmarshal(b, &tp); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	v, err := onnx.Floats(&tp)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return tp.Dims, v
}

// relErr is max|got−want| / max|want|: a tolerance relative to the output's scale, which
// summation-order noise follows.
func relErr(got, want []float32) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	var diff, scale float64
	for i := range got {
		diff = max(diff, math.Abs(float64(got[i])-float64(want[i])))
		scale = max(scale, math.Abs(float64(want[i])))
	}
	if scale == 0 {
		return diff
	}
	return diff / scale
}

func ints64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}
