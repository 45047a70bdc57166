package bench

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// scripts/bench_torch.py times graphs' network: loaded by name from an ONNX file written by
// graphs.Build (BatchNorm statistics and affine values perturbed, so that every buffer has
// to land in the right place), its eager logits equal onnxruntime's on the same input. The
// cases cover both of graphs' dilation rules: BasicBlock (MMSegmentation's, conv1 only) at
// output strides 16 and 8, and Bottleneck (torchvision's replace_stride_with_dilation) at 8,
// where layer4's first block keeps layer3's dilation 2; and graphs' DeepLabV3+ head (the
// GPU check's ResNet-50 OS8 network, and at OS16, where the ASPP rates halve).
func TestTorchInferenceMatchesORT(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 50–120 MB models and starts PyTorch; run without -short")
	}
	lib := testenv.ORTLibrary(t)
	for _, c := range []struct {
		encoder      graphs.Encoder
		outputStride int
		batch        int
		head         graphs.Head
	}{
		{graphs.ResNet18, 16, 2, graphs.HeadFCN},
		{graphs.ResNet18, 8, 1, graphs.HeadFCN},
		{graphs.ResNet50, 8, 1, graphs.HeadFCN},
		{graphs.ResNet50, 8, 1, graphs.HeadDeepLabV3Plus},
		{graphs.ResNet18, 16, 2, graphs.HeadDeepLabV3Plus},
	} {
		t.Run(fmt.Sprintf("%s_os%d_%s", c.encoder, c.outputStride, c.head), func(t *testing.T) {
			torchMatchesORT(t, lib, c.encoder, c.outputStride, c.batch, c.head)
		})
	}
}

func torchMatchesORT(t *testing.T, lib string, encoder graphs.Encoder, outputStride, batch int, head graphs.Head) {
	const size, classes = 64, 21
	m, err := graphs.Build(graphs.Spec{Encoder: encoder, OutputStride: outputStride, Head: head, Classes: classes, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	perturbBatchNorms(m)
	dir := t.TempDir()
	model := filepath.Join(dir, "m.onnx")
	if err := onnx.WriteFile(model, m); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(testenv.RepoRoot(t), "scripts", "bench_torch.py")
	out, err := exec.Command(testenv.DebianPython, script, "infer", "--model", model,
		"--encoder", string(encoder), "--output-stride", strconv.Itoa(outputStride), "--head", string(head),
		"--batch", strconv.Itoa(batch), "--size", strconv.Itoa(size), "--threads", "1", "--dump", dir).CombinedOutput()
	if err != nil && strings.Contains(string(out), "ModuleNotFoundError") {
		// One interpreter start instead of a separate probe: importing torch is slow.
		t.Skipf("%s lacks torch, torchvision or onnx (not a CI dependency): %s", testenv.DebianPython, lastLine(out))
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	x := readFloats(t, filepath.Join(dir, "input.bin"), batch*3*size*size)
	want := readFloats(t, filepath.Join(dir, "logits.bin"), batch*classes*size*size)
	if err := ort.Init(lib); err != nil {
		t.Fatal(err)
	}
	s, err := ort.NewSessionFile(model, ort.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Run(map[string]ort.Tensor{graphs.Input: {Shape: []int64{int64(batch), 3, size, size}, Data: x}})
	if err != nil {
		t.Fatal(err)
	}
	got := res[graphs.Logits].Data.([]float32)
	var maxDiff, scale float64
	for i := range want {
		maxDiff = math.Max(maxDiff, math.Abs(float64(got[i]-want[i])))
		scale = math.Max(scale, math.Abs(float64(want[i])))
	}
	if maxDiff > 1e-4*scale || scale == 0 {
		t.Fatalf("PyTorch's logits differ from onnxruntime's by %.3g (largest |logit| %.3g)", maxDiff, scale)
	}
	t.Logf("largest difference %.3g, relative %.3g", maxDiff, maxDiff/scale)
}

// perturbBatchNorms draws every BatchNorm's γ, β, running mean and running variance.
func perturbBatchNorms(m *pb.ModelProto) {
	r := rand.New(rand.NewPCG(4, 2))
	inits := onnx.Initializers(m.Graph)
	for _, n := range m.Graph.Node {
		if n.GetOpType() != "BatchNormalization" {
			continue
		}
		for i, lohi := range [][2]float32{1: {0.5, 1.5}, 2: {-0.2, 0.2}, 3: {-0.2, 0.2}, 4: {0.5, 1.5}} {
			t := inits[n.Input[i]]
			if i == 0 || t == nil {
				continue
			}
			v := make([]float32, onnx.Shape(t)[0])
			for j := range v {
				v[j] = lohi[0] + (lohi[1]-lohi[0])*r.Float32()
			}
			onnx.SetInitializer(m.Graph, onnx.FromFloats(t.GetName(), onnx.Shape(t), v))
		}
	}
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

func readFloats(t *testing.T, path string, n int) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*n {
		t.Fatalf("%s: %d bytes, want %d float32", path, len(b), n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// scripts/bench_torch.py train's flags: --precision other than fp32 needs --device cuda
// (argparse's exit 2); --device cuda without a CUDA build of torch says so in one line;
// the CPU's JSON keeps its fields (no device or precision: the CPU format as before) and
// names the head, DeepLabV3+ included.
func TestTorchTrainFlags(t *testing.T) {
	script := filepath.Join(testenv.RepoRoot(t), "scripts", "bench_torch.py")
	run := func(args ...string) (string, int) {
		out, err := exec.Command(testenv.DebianPython, append([]string{script, "train"}, args...)...).CombinedOutput()
		if strings.Contains(string(out), "ModuleNotFoundError") {
			t.Skipf("%s lacks torch: %s", testenv.DebianPython, lastLine(out))
		}
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	if out, code := run("--precision", "amp"); code != 2 || !strings.Contains(out, "--precision amp needs --device cuda") {
		t.Errorf("--precision amp on the CPU: exit %d\n%s", code, out)
	}
	if out, code := run("--device", "cuda", "--size", "32", "--batch", "2", "--steps", "1"); code == 0 {
		if !strings.Contains(out, `"device": "cuda"`) || !strings.Contains(out, `"peak_device_mib"`) {
			t.Errorf("--device cuda: %s", out)
		}
	} else if !strings.Contains(lastLine([]byte(out)), "sees no CUDA GPU") {
		t.Errorf("--device cuda without a GPU: exit %d\n%s", code, out)
	}
	out, code := run("--encoder", "resnet50", "--output-stride", "8", "--head", "deeplabv3plus", "--size", "32", "--batch", "2",
		"--steps", "1", "--warmup", "0", "--threads", "1")
	if code != 0 || !strings.Contains(out, `"head": "deeplabv3plus"`) || !strings.Contains(out, `"peak_rss_mib"`) ||
		strings.Contains(out, `"device"`) || strings.Contains(out, `"precision"`) {
		t.Errorf("CPU DeepLabV3+ step: exit %d\n%s", code, out)
	}
}
