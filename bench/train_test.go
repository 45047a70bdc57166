package bench

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/train/pretext"
)

// smallSpec is ResNet-18 at an eighth of its width, output stride 16, with MoCo's FCN head:
// the benchmark's network, small enough for a unit test.
var smallSpec = graphs.Spec{Encoder: graphs.ResNet18, OutputStride: 16, Width: 0.125, Head: graphs.HeadFCN, Classes: 21, Seed: 3}

func TestTrainSmallSeg(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	r, err := Train(TrainConfig{Spec: smallSpec, Batch: 2, Size: 48, Steps: 3, Warmup: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOMAXPROCS(0) != procs {
		t.Errorf("GOMAXPROCS left at %d, was %d", runtime.GOMAXPROCS(0), procs)
	}
	if r.Method != "seg" || r.Encoder != "resnet18" || r.Head != "fcn" || r.OutputStride != 16 || r.Width != 0.125 || r.Classes != 21 ||
		r.Batch != 2 || r.Size != 48 || r.Steps != 3 || r.Warmup != 1 || r.GoMaxProcs != 1 || r.BLASThreads != 1 || r.BLAS == "" {
		t.Errorf("settings: %+v", r)
	}
	checkSummary(t, "step", r.StepS, 3)
	if r.CPUS.N != 3 || r.CPUS.Min < 0 || r.CPUS.P50 <= 0 {
		t.Errorf("CPU time per step %+v", r.CPUS)
	}
	if want := 2 / r.StepS.P50; !near(r.ImagesPerS, want, 1e-12) {
		t.Errorf("%v images/s, want batch/p50 = %v", r.ImagesPerS, want)
	}
	// The work is graphs.Measure's count for this network at 2×3×48×48, three times over.
	m, err := graphs.Build(smallSpec)
	if err != nil {
		t.Fatal(err)
	}
	cost, err := graphs.Measure(m, 2, 48, 48)
	if err != nil {
		t.Fatal(err)
	}
	if r.Work.TrainedMACs != cost.MACs || r.Work.ForwardOnlyMACs != 0 || !near(r.GFLOPPerStep, 6*float64(cost.MACs)/1e9, 1e-12) {
		t.Errorf("work %+v, %v GFLOP per step; want %d trained MACs, %v GFLOP", r.Work, r.GFLOPPerStep, cost.MACs, 6*float64(cost.MACs)/1e9)
	}
	if !near(r.GFLOPPerS, r.GFLOPPerStep/r.StepS.P50, 1e-12) {
		t.Errorf("%v GFLOP/s, want %v / %v", r.GFLOPPerS, r.GFLOPPerStep, r.StepS.P50)
	}
	if r.Params != cost.Params {
		t.Errorf("%d trained values, graphs counts %d parameters", r.Params, cost.Params)
	}
	// mmseg's classifier starts at N(0, 0.01²), so the first loss is close to the uniform
	// prediction's ln 21; the noise labels are half background, so four SGD steps on the
	// same batch lower it.
	if math.Abs(r.LossFirst-math.Log(21)) > 0.05 || !(r.LossLast < r.LossFirst-0.05) {
		t.Errorf("loss %v at the first step (want ln 21 = %.4f ± 0.05), %v at the last (want lower)", r.LossFirst, math.Log(21), r.LossLast)
	}
	if r.PeakRSSMiB <= 0 || r.NetworkRSSMiB <= 0 || r.BaselineRSSMiB <= 0 || r.BuildS <= 0 {
		t.Errorf("memory %v peak, %v network, %v baseline; build %v s", r.PeakRSSMiB, r.NetworkRSSMiB, r.BaselineRSSMiB, r.BuildS)
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"resnet18 output stride 16 width 0.125 + fcn (21 classes), batch 2 at 48×48", "GFLOP/s", "peak RSS", "BLAS "} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}

// Gorgonia v0.9.18 accumulates gradients into bound dual values across runs; the runner must
// read each run's own gradient, as the training engine does.
func TestRunnerGradientsDoNotAccumulate(t *testing.T) {
	c, err := TrainConfig{Spec: smallSpec, Batch: 2, Size: 32}.normalized()
	if err != nil {
		t.Fatal(err)
	}
	s, ds, err := newStep(c, &TrainReport{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := oneBatch(ds, s.DataTask(), c)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newRunner(s, c.Batch)
	if err != nil {
		t.Fatal(err)
	}
	defer r.close()
	grads := func() [][]float32 {
		r.vm.Reset()
		if err := s.Bind(b, 0); err != nil {
			t.Fatal(err)
		}
		if err := r.vm.RunAll(); err != nil {
			t.Fatal(err)
		}
		if err := r.collectGrads(); err != nil {
			t.Fatal(err)
		}
		var gs [][]float32
		for _, p := range r.params {
			gs = append(gs, slices.Clone(p.Grad))
		}
		return gs
	}
	first, second := grads(), grads() // same weights, same batch: the same gradient
	for i := range first {
		for j := range first[i] {
			if d := math.Abs(float64(first[i][j] - second[i][j])); d > 1e-6*(1+math.Abs(float64(first[i][j]))) {
				t.Fatalf("%s[%d]: gradient %v on the first run, %v on the second", r.params[i].Name, j, first[i][j], second[i][j])
			}
		}
	}
}

// Every pretext method runs as a timed step; the momentum methods count their key network's
// forward pass as forward-only work equal to the online network's.
func TestTrainPretextMethods(t *testing.T) {
	methods := pretext.Methods
	if testing.Short() {
		methods = []string{"moco", "plr"}
	}
	for _, m := range methods {
		r, err := Train(TrainConfig{Method: m, Spec: graphs.Spec{Encoder: graphs.ResNet18, Width: 0.125, Seed: 1}, Batch: 4, Size: 32, Steps: 1, Threads: 1})
		if err != nil {
			t.Errorf("%s: %v", m, err)
			continue
		}
		momentum := slices.Contains(momentumMethods, m)
		if r.Work.TrainedMACs <= 0 || (r.Work.ForwardOnlyMACs == r.Work.TrainedMACs) != momentum || r.MethodConfig == "" || r.Scale != "cpu" {
			t.Errorf("%s: work %+v (momentum network: %v), config %q, scale %q", m, r.Work, momentum, r.MethodConfig, r.Scale)
		}
		if decoder := pretext.Decoder(m); (r.Head != "none") != decoder || (r.DecoderWidth > 0) != decoder {
			t.Errorf("%s: head %q, decoder width %d", m, r.Head, r.DecoderWidth)
		}
		if math.IsNaN(r.LossFirst) || math.IsInf(r.LossFirst, 0) || r.StepS.N != 1 {
			t.Errorf("%s: loss %v, %d steps timed", m, r.LossFirst, r.StepS.N)
		}
	}
}

func TestTrainConfigErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  TrainConfig
		want string
	}{
		{"method", TrainConfig{Method: "mocov9", Spec: smallSpec}, `method "mocov9"; want one of [seg moco`},
		{"batch", TrainConfig{Spec: smallSpec, Batch: -1}, "batch -1"},
		{"size", TrainConfig{Spec: smallSpec, Size: 8}, "size 8; want ≥ 16"},
		{"steps", TrainConfig{Spec: smallSpec, Steps: -3}, "steps -3"},
		{"warmup", TrainConfig{Spec: smallSpec, Warmup: -1}, "-1 warm-up"},
		{"classes", TrainConfig{Spec: graphs.Spec{Encoder: graphs.ResNet18, Head: graphs.HeadFCN, Classes: 1}}, "1 classes"},
	} {
		_, err := Train(c.cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v; want a ConfigError containing %q", c.name, err, c.want)
		}
	}
	// A spec graphs refuses is its SpecError, a bad scale pretext's UsageError (exit code 2).
	bad := smallSpec
	bad.OutputStride = 12
	_, err := Train(TrainConfig{Spec: bad, Steps: 1})
	var se *graphs.SpecError
	if !errors.As(err, &se) {
		t.Errorf("output stride 12: got %v; want a graphs.SpecError", err)
	}
	_, err = Train(TrainConfig{Method: "moco", Scale: "huge", Spec: smallSpec, Steps: 1})
	var ue *pretext.UsageError
	if !errors.As(err, &ue) {
		t.Errorf("scale huge: got %v; want a pretext.UsageError", err)
	}
}

// --profile's rows account for the step: op rows and outside rows add up to the mean step
// time, every op of the network appears, and the convolutions carry their FLOPs.
func TestTrainProfile(t *testing.T) {
	r, err := Train(TrainConfig{Spec: smallSpec, Batch: 2, Size: 48, Steps: 2, Warmup: 1, Threads: 1, Profile: true})
	if err != nil {
		t.Fatal(err)
	}
	p := r.Profile
	if p == nil || p.Steps != 2 || len(p.Ops) == 0 || len(p.Outside) != 4 {
		t.Fatalf("profile %+v", p)
	}
	var ms, share, opsMS float64
	names := map[string]bool{}
	for _, row := range p.Ops {
		ms, share, opsMS = ms+row.MS, share+row.Share, opsMS+row.MS
		names[row.Name+" "+row.Pass] = true
		conv := strings.HasPrefix(row.Name, "Conv2D")
		if conv != (row.GFLOPPerS > 0) || row.Calls <= 0 {
			t.Errorf("row %+v: GFLOP/s only and always for convolutions, calls > 0", row)
		}
	}
	for _, row := range p.Outside {
		ms, share = ms+row.MS, share+row.Share
	}
	if !near(ms/1e3, p.StepS, 1e-9) || !near(share, 1, 1e-9) || !near(opsMS/1e3, p.OpsS, 1e-9) {
		t.Errorf("rows add up to %v ms and share %v; step %v s, ops %v s", ms, share, p.StepS, p.OpsS)
	}
	for _, want := range []string{"Conv2D 3×3 forward", "Conv2D 3×3 ∂x backward", "Conv2D 3×3 ∂w backward", "Conv2D 7×7 forward",
		"BatchNorm forward", "BatchNorm ∂x backward", "Relu forward", "Relu backward", "MaxPool forward", "Resize backward",
		"SoftmaxCrossEntropy forward", "SoftmaxCrossEntropy backward"} {
		if !names[want] {
			t.Errorf("no %q row; rows %v", want, names)
		}
	}
	var sb strings.Builder
	if err := r.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"profile over 2 steps", "Conv2D 3×3 ∂w", "outside ops:", outsideOptimizer} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, sb.String())
		}
	}
}
