package ops

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// ONNX's own node conformance tests (Debian libonnx-testdata) for the ONNX operators the
// part-A ops implement, run on the ops directly: where ONNX and PyTorch differ (asymmetric
// and SAME pads, ONNX's biased running variance) these are the reference. The importer runs
// the same data through its lowerings; this test pins a failure on the op.
var aNodeTests = []string{
	"test_conv_with_autopad_same", "test_conv_with_strides_and_asymmetric_padding",
	"test_conv_with_strides_no_padding", "test_conv_with_strides_padding",
	"test_maxpool_2d_ceil", "test_maxpool_2d_default", "test_maxpool_2d_dilations", "test_maxpool_2d_pads",
	"test_maxpool_2d_precomputed_pads", "test_maxpool_2d_precomputed_same_upper", "test_maxpool_2d_precomputed_strides",
	"test_maxpool_2d_same_lower", "test_maxpool_2d_same_upper", "test_maxpool_2d_strides",
	"test_averagepool_2d_ceil", "test_averagepool_2d_default", "test_averagepool_2d_pads",
	"test_averagepool_2d_pads_count_include_pad", "test_averagepool_2d_precomputed_pads",
	"test_averagepool_2d_precomputed_pads_count_include_pad", "test_averagepool_2d_precomputed_same_upper",
	"test_averagepool_2d_precomputed_strides", "test_averagepool_2d_same_lower", "test_averagepool_2d_same_upper",
	"test_averagepool_2d_strides",
	"test_globalaveragepool", "test_globalaveragepool_precomputed",
	"test_batchnorm_epsilon", "test_batchnorm_example",
	"test_batchnorm_epsilon_training_mode", "test_batchnorm_example_training_mode",
	"test_matmul_2d", "test_matmul_3d", "test_matmul_4d",
}

func TestONNXNodeConformance(t *testing.T) {
	root := testenv.NodeTests(t)
	for _, name := range aNodeTests {
		t.Run(strings.TrimPrefix(name, "test_"), func(t *testing.T) {
			dir := filepath.Join(root, name)
			// Unmarshalled directly: onnx.ReadFile rejects the opset-1 GlobalAveragePool models.
			raw, err := os.ReadFile(filepath.Join(dir, "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			var m pb.ModelProto
			if err := proto.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			if len(m.GetGraph().GetNode()) != 1 {
				t.Fatalf("%d nodes, want 1", len(m.GetGraph().GetNode()))
			}
			node := m.GetGraph().GetNode()[0]
			ins, outs := aReadPBs(t, dir, "input_"), aReadPBs(t, dir, "output_")
			aRunNode(t, node, ins, outs)
		})
	}
}

// aReadPBs reads test_data_set_0/<prefix>N.pb in order as float32 tensors.
func aReadPBs(t *testing.T, dir, prefix string) []*tensor.Dense {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "test_data_set_0", prefix+"*.pb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no %s*.pb in %s: %v", prefix, dir, err)
	}
	sort.Strings(files)
	var out []*tensor.Dense
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var tp pb.TensorProto
		if err := proto.Unmarshal(raw, &tp); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		data, err := onnx.Floats(&tp)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, tensor.New(tensor.WithShape(onnx.Shape(&tp)...), tensor.WithBacking(data)))
	}
	return out
}

// aAutoPads resolves ONNX auto_pad for one spatial axis into (begin, end) pads.
func aAutoPads(mode string, in, k, s, d int) (int, int) {
	if mode != "SAME_UPPER" && mode != "SAME_LOWER" {
		return 0, 0
	}
	out := (in + s - 1) / s
	total := max((out-1)*s+(k-1)*d+1-in, 0)
	if mode == "SAME_LOWER" {
		return (total + 1) / 2, total / 2
	}
	return total / 2, (total + 1) / 2
}

// aWindowAttrs reads kernel, strides, dilations and pads (auto_pad resolved) for a 2-D node.
func aWindowAttrs(node *pb.NodeProto, x tensor.Shape, kernel []int) (stride, dil [2]int, pads [4]int) {
	ints := func(name string, def ...int64) []int {
		var out []int
		for _, v := range onnx.AttrInts(node, name, def) {
			out = append(out, int(v))
		}
		return out
	}
	s, d, p := ints("strides", 1, 1), ints("dilations", 1, 1), ints("pads", 0, 0, 0, 0)
	stride, dil = [2]int{s[0], s[1]}, [2]int{d[0], d[1]}
	pads = [4]int{p[0], p[1], p[2], p[3]}
	if mode := onnx.AttrString(node, "auto_pad", "NOTSET"); mode != "NOTSET" {
		for i := range 2 {
			pads[i], pads[i+2] = aAutoPads(mode, x[2+i], kernel[i], stride[i], dil[i])
		}
	}
	return stride, dil, pads
}

func aRunNode(t *testing.T, node *pb.NodeProto, ins, outs []*tensor.Dense) {
	x := ins[0].Shape()
	kernel := []int{0, 0}
	for i, v := range onnx.AttrInts(node, "kernel_shape", nil) {
		kernel[i] = int(v)
	}
	if node.GetOpType() == "Conv" && kernel[0] == 0 {
		kernel = []int{ins[1].Shape()[2], ins[1].Shape()[3]}
	}
	stride, dil, pads := aWindowAttrs(node, x, kernel)
	pool := PoolParams{Kernel: [2]int{kernel[0], kernel[1]}, Stride: stride, Pads: pads,
		CeilMode: onnx.AttrInt(node, "ceil_mode", 0) == 1, CountIncludePad: onnx.AttrInt(node, "count_include_pad", 0) == 1}
	var st *BNState
	var build func(in G.Nodes) (*G.Node, error)
	switch node.GetOpType() {
	case "Conv":
		p := ConvParams{Stride: stride, Pads: pads, Dilation: dil, Groups: int(onnx.AttrInt(node, "group", 1))}
		build = func(in G.Nodes) (*G.Node, error) {
			if len(in) == 3 {
				return Conv2D(in[0], in[1], in[2], p)
			}
			return Conv2D(in[0], in[1], nil, p)
		}
	case "MaxPool":
		pool.Dilation = dil
		build = func(in G.Nodes) (*G.Node, error) { return MaxPool2D(in[0], pool) }
	case "AveragePool":
		build = func(in G.Nodes) (*G.Node, error) { return AvgPool2D(in[0], pool) }
	case "GlobalAveragePool":
		build = func(in G.Nodes) (*G.Node, error) { return GlobalAvgPool2D(in[0]) }
	case "MatMul":
		build = func(in G.Nodes) (*G.Node, error) { return MatMul(in[0], in[1]) }
	case "BatchNormalization":
		// ONNX's running variance is the biased batch variance (PyTorch's is unbiased).
		st = &BNState{Mean: ins[3], Var: ins[4], Momentum: float64(onnx.AttrFloat(node, "momentum", 0.9)),
			Eps: float64(onnx.AttrFloat(node, "epsilon", 1e-5)), Phase: &Phase{Training: onnx.AttrInt(node, "training_mode", 0) == 1}}
		ins = ins[:3]
		build = func(in G.Nodes) (*G.Node, error) { return BatchNorm(in[0], in[1], in[2], st) }
	default:
		t.Fatalf("no op for %s", node.GetOpType())
	}
	y := aEval(t, func(_ *G.ExprGraph, in G.Nodes) (*G.Node, error) { return build(in) }, ins...)
	if !y.Shape().Eq(outs[0].Shape()) {
		t.Fatalf("output shape %v, want %v", y.Shape(), outs[0].Shape())
	}
	aClose(t, "y", aF64(y), aF64(outs[0]), 1e-5)
	if st != nil && len(outs) == 3 {
		aClose(t, "running mean", aF64(st.Mean), aF64(outs[1]), 1e-5)
		aClose(t, "running var", aF64(st.Var), aF64(outs[2]), 1e-5)
	}
}
