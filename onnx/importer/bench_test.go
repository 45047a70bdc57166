package importer

import (
	"bufio"
	"encoding/json"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/blas"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/train/optim"
)

// benchSpec is the benchmarked network: ResNet-18 at output stride 16 with MoCo's FCN head.
var benchSpec = graphs.Spec{Encoder: graphs.ResNet18, OutputStride: 16, Head: graphs.HeadFCN, Classes: 21, Seed: 1,
	Outputs: []string{graphs.Logits}}

// BenchmarkTrainStep times one training step of benchSpec, batch 8, 128×128: forward in
// training mode, cross-entropy (ignore 255), backward, SGD with momentum 0.9. It reports
// the peak RSS of the process and, when Debian's torch is present, PyTorch 1.13's time for
// the same network (scripts/bench_torch_step.py, 2 threads) and the ratio.
func BenchmarkTrainStep(b *testing.B) {
	const n, size, classes = 8, 128, 21
	mp, err := graphs.Build(benchSpec)
	if err != nil {
		b.Fatal(err)
	}
	m, err := Import(mp, Options{InputShapes: map[string][]int{"input": {n, 3, size, size}}, Phase: &ops.Phase{Training: true}})
	if err != nil {
		b.Fatal(err)
	}
	logits, _ := m.Output(graphs.Logits)
	r := rand.New(rand.NewSource(1))
	labels := make([]float32, n*size*size)
	for i := range labels {
		labels[i] = float32(r.Intn(classes))
		if r.Float64() < 0.1 {
			labels[i] = 255
		}
	}
	lab := G.NewTensor(m.Graph, tensor.Float32, 3, G.WithShape(n, size, size), G.WithName("labels"),
		G.WithValue(tensor.New(tensor.WithShape(n, size, size), tensor.WithBacking(labels))))
	loss, err := ops.SoftmaxCrossEntropy(logits, lab, 255)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := G.Grad(loss, m.Learnables()...); err != nil {
		b.Fatal(err)
	}
	bindFeeds(b, m, feeds("input", randFeed(2, n, 3, size, size)))
	vm := G.NewTapeMachine(m.Graph, G.BindDualValues(m.Learnables()...))
	defer vm.Close()
	var params []*optim.Param
	for _, p := range m.Params() {
		v := p.Node.Value().Data().([]float32)
		params = append(params, &optim.Param{Name: p.Name, Shape: p.Shape, Value: v, Grad: make([]float32, len(v))})
	}
	opt, err := optim.New(params, optim.Config{Momentum: 0.9}, nil)
	if err != nil {
		b.Fatal(err)
	}
	step := func() {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			b.Fatal(err)
		}
		for i, p := range m.Params() {
			g, err := p.Node.Grad()
			if err != nil {
				b.Fatal(err)
			}
			params[i].Grad = g.Data().([]float32)
		}
		if err := opt.Step(0.01); err != nil {
			b.Fatal(err)
		}
	}
	step() // first run allocates the machine's buffers
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.StopTimer()
	secs := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(secs, "s/step")
	b.ReportMetric(peakRSSMiB(), "peak-RSS-MiB")
	if t := torchStep(b); t != nil {
		b.ReportMetric(t.MedianS, "torch-s/step")
		b.ReportMetric(secs/t.MedianS, "x-torch")
		b.ReportMetric(t.PeakRSSMiB, "torch-peak-RSS-MiB")
	}
	b.Logf("BLAS %s; loss %v", blas.Name, loss.Value())
}

// peakRSSMiB is the process's peak resident set size (VmHWM).
func peakRSSMiB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

type torchResult struct {
	MedianS    float64 `json:"median_s"`
	PeakRSSMiB float64 `json:"peak_rss_mib"`
	Params     int64   `json:"params"`
}

var (
	torchOnce sync.Once
	torchRes  *torchResult
)

// torchStep runs scripts/bench_torch_step.py once per process (nil without torch).
func torchStep(b *testing.B) *torchResult {
	torchOnce.Do(func() {
		script := filepath.Join(testenv.RepoRoot(b), "scripts", "bench_torch_step.py")
		out, err := exec.Command(testenv.DebianPython, script, "--steps", "10", "--warmup", "2", "--threads", "2").Output()
		if err != nil {
			b.Logf("no PyTorch comparison: %v", err)
			return
		}
		var r torchResult
		if err := json.Unmarshal(out, &r); err != nil {
			b.Logf("no PyTorch comparison: %v in %q", err, out)
			return
		}
		torchRes = &r
	})
	return torchRes
}

// The PyTorch benchmark times graphs' network: its export, given graphs' initializers by
// name, computes the same logits in onnxruntime (so names, shapes and wiring all agree).
func TestBenchNetworkMatchesGraphs(t *testing.T) {
	testenv.Long(t, "exports a 50 MB model; it checks the benchmark's PyTorch script, not the importer")
	if err := exec.Command(testenv.DebianPython, "-c", "import torch, torchvision").Run(); err != nil {
		t.Skipf("%s has no torch/torchvision (not a CI dependency): %v", testenv.DebianPython, err)
	}
	path := filepath.Join(t.TempDir(), "torch.onnx")
	script := filepath.Join(testenv.RepoRoot(t), "scripts", "bench_torch_step.py")
	if out, err := exec.Command(testenv.DebianPython, script, "--export", path).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tm, err := onnx.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	gm, err := graphs.Build(benchSpec)
	if err != nil {
		t.Fatal(err)
	}
	perturbBN(gm, 3)
	ginits := onnx.Initializers(gm.Graph)
	used := 0
	for _, ti := range tm.Graph.Initializer {
		if strings.HasSuffix(ti.GetName(), "num_batches_tracked") || !isFloatType(pbType(ti.GetDataType())) {
			continue
		}
		gi, ok := ginits[ti.GetName()]
		if !ok {
			t.Fatalf("PyTorch's %q has no initializer of that name in graphs' model", ti.GetName())
		}
		if !equalInts(onnx.Shape(gi), onnx.Shape(ti)) {
			t.Fatalf("%q: PyTorch shape %v, graphs %v", ti.GetName(), onnx.Shape(ti), onnx.Shape(gi))
		}
		onnx.SetInitializer(tm.Graph, gi)
		used++
	}
	floats := 0
	for _, gi := range gm.Graph.Initializer {
		if isFloatType(pbType(gi.GetDataType())) {
			floats++
		}
	}
	if used != floats {
		t.Fatalf("PyTorch's export has %d float initializers, graphs' model %d", used, floats)
	}
	inf, err := InferenceForm(tm)
	if err != nil {
		t.Fatal(err)
	}
	fs := feeds("input", randFeed(4, 1, 3, 64, 80))
	want := runORT(t, gm, fs)[graphs.Logits]
	got := runORT(t, inf, fs)["logits"]
	if _, rel := maxRelErr(got, want); rel > 1e-5 {
		t.Fatalf("PyTorch's network with graphs' weights: logits differ by %.3g (relative)", rel)
	}
}

func pbType(dt int32) pb.TensorProto_DataType { return pb.TensorProto_DataType(dt) }

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
