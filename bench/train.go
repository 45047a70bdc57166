package bench

import (
	"fmt"
	"runtime"
	"time"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/blas"
	"github.com/ssl4dp/ssl4dp/train/optim"
)

// The optimizer of the timed step: SGD with momentum 0.9 at a fixed learning rate, no
// weight decay, as scripts/bench_torch.py runs torch.optim.SGD.
const (
	trainLR       = 0.01
	trainMomentum = 0.9
)

// TrainConfig says which step Train times. Zero fields take the defaults noted.
type TrainConfig struct {
	Method  string      // a name from Methods; "" means "seg"
	Spec    graphs.Spec // the network; Classes 0 means 21 (PASCAL VOC)
	Batch   int         // 0 means 8
	Size    int         // square input side; 0 means 128
	Steps   int         // timed steps; 0 means 10
	Warmup  int         // untimed steps first (the first step also allocates every buffer)
	Threads int         // GOMAXPROCS and BLAS threads while Train runs; 0 means one per CPU
	Seed    int64       // of the synthetic batch and the dropout masks
}

// TrainReport is what Train measured, with the settings and the machine.
type TrainReport struct {
	Method         string  `json:"method"`
	Encoder        string  `json:"encoder"`
	Head           string  `json:"head"`
	Width          float64 `json:"width"`
	OutputStride   int     `json:"output_stride"`
	Classes        int     `json:"classes"`
	Batch          int     `json:"batch"`
	Size           int     `json:"size"`
	Steps          int     `json:"steps"`
	Warmup         int     `json:"warmup"`
	Params         int64   `json:"params"`  // trainable values
	BuildS         float64 `json:"build_s"` // importing, differentiating and compiling the graph
	StepS          Summary `json:"step_s"`  // seconds per step: bind, forward, backward, update
	CPUS           Summary `json:"cpu_s"`   // process CPU seconds per step (user+system, all threads)
	ImagesPerS     float64 `json:"images_per_s"`
	Work           Work    `json:"work"`
	GFLOPPerStep   float64 `json:"gflop_per_step"`
	GFLOPPerS      float64 `json:"gflop_per_s"` // GFLOPPerStep / p50
	FLOPConvention string  `json:"flop_convention"`
	LossFirst      float64 `json:"loss_first"` // the loss of the first and last steps: the network trains
	LossLast       float64 `json:"loss_last"`
	PeakRSSMiB     float64 `json:"peak_rss_mib"`     // VmHWM from building the network to the last step
	BaselineRSSMiB float64 `json:"baseline_rss_mib"` // resident set before the network was built
	NetworkRSSMiB  float64 `json:"network_rss_mib"`  // PeakRSSMiB − BaselineRSSMiB
	PeakReset      bool    `json:"peak_reset"`       // false: the peak covers the whole process
	BLAS           string  `json:"blas"`
	BLASThreads    int     `json:"blas_threads"`
	GoMaxProcs     int     `json:"gomaxprocs"`
	Env            Env     `json:"env"`
}

func (c TrainConfig) normalized() (TrainConfig, error) {
	if c.Method == "" {
		c.Method = "seg"
	}
	if _, ok := methods[c.Method]; !ok {
		return c, configErr("method %q; want one of %v", c.Method, Methods())
	}
	if c.Spec.Classes == 0 && c.Spec.DecoderWidth == 0 {
		c.Spec.Classes = 21
	}
	defaults := []struct {
		name string
		v    *int
		def  int
		min  int
	}{{"batch", &c.Batch, 8, 1}, {"size", &c.Size, 128, 16}, {"steps", &c.Steps, 10, 1}, {"threads", &c.Threads, runtime.NumCPU(), 1}}
	for _, d := range defaults {
		if *d.v == 0 {
			*d.v = d.def
		}
		if *d.v < d.min {
			return c, configErr("%s %d; want ≥ %d", d.name, *d.v, d.min)
		}
	}
	if c.Warmup < 0 {
		return c, configErr("%d warm-up steps; want ≥ 0", c.Warmup)
	}
	return c, nil
}

// Train builds the method's step, feeds it one batch of synthetic scenes made by data's
// loader (the same batch every step: loading is not timed), and times Warmup+Steps steps
// of bind, forward, backward and SGD update, keeping the last Steps.
func Train(cfg TrainConfig) (*TrainReport, error) {
	c, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(c.Threads))
	defer setBLASThreads(setBLASThreads(c.Threads))
	r := &TrainReport{Method: c.Method, Batch: c.Batch, Size: c.Size, Steps: c.Steps, Warmup: c.Warmup,
		BLAS: blas.Name, BLASThreads: blasThreads(), GoMaxProcs: runtime.GOMAXPROCS(0),
		FLOPConvention: FLOPConvention, Env: startEnv(false, 0)}
	step, work, err := methods[c.Method](c)
	if err != nil {
		return nil, err
	}
	r.describe(c.Spec)
	batch, err := oneBatch(step.DataTask(), c)
	if err != nil {
		return nil, err
	}
	before, peakReset, err := baseline()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	vm, params, opt, err := compile(step, c.Batch)
	if err != nil {
		return nil, err
	}
	defer vm.Close()
	r.BuildS = time.Since(t0).Seconds()
	times, cpu := make([]float64, 0, c.Steps), make([]float64, 0, c.Steps)
	for i := 0; i < c.Warmup+c.Steps; i++ {
		t, cpu0 := time.Now(), processCPU()
		vm.Reset()
		if err := step.Bind(batch, i); err != nil {
			return nil, err
		}
		if err := vm.RunAll(); err != nil {
			return nil, fmt.Errorf("bench: %s step %d: %w", c.Method, i, err)
		}
		if err := collectGrads(step, params); err != nil {
			return nil, err
		}
		if err := opt.Step(trainLR); err != nil {
			return nil, err
		}
		if err := step.AfterStep(i); err != nil {
			return nil, err
		}
		elapsed, cpuUsed := time.Since(t).Seconds(), processCPU()-cpu0
		loss, err := scalar(step.Loss())
		if err != nil {
			return nil, err
		}
		if i == 0 {
			r.LossFirst = loss
		}
		r.LossLast = loss
		if i >= c.Warmup {
			times, cpu = append(times, elapsed), append(cpu, cpuUsed)
		}
	}
	if r.StepS, err = Summarize(times); err != nil {
		return nil, err
	}
	if r.CPUS, err = Summarize(cpu); err != nil {
		return nil, err
	}
	after, err := ReadMemory()
	if err != nil {
		return nil, err
	}
	for _, p := range params {
		r.Params += int64(len(p.Value))
	}
	r.ImagesPerS = float64(c.Batch) / r.StepS.P50
	r.Work, r.GFLOPPerStep = work, work.FLOPs()/1e9
	r.GFLOPPerS = r.GFLOPPerStep / r.StepS.P50
	r.PeakRSSMiB, r.BaselineRSSMiB, r.NetworkRSSMiB, r.PeakReset = after.HWM, before.RSS, after.HWM-before.RSS, peakReset
	r.Env.finish()
	return r, nil
}

// describe fills the network's fields from the spec graphs.Build normalises.
func (r *TrainReport) describe(s graphs.Spec) {
	r.Encoder, r.Head, r.Width, r.OutputStride, r.Classes = string(s.Encoder), string(s.Head), s.Width, s.OutputStride, s.Classes
	if r.Width == 0 {
		r.Width = 1
	}
	if r.OutputStride == 0 {
		r.OutputStride = 32
	}
}

// oneBatch makes the batch every step reuses: synthetic scenes of the benchmark's size,
// augmented by the step's data task.
func oneBatch(task data.Task, c TrainConfig) (*data.Batch, error) {
	ds, err := data.Open(fmt.Sprintf("synthetic:size=%d,n=%d", c.Size, c.Batch), data.Options{})
	if err != nil {
		return nil, err
	}
	l, err := data.NewLoader(ds, task, data.LoaderConfig{Batch: c.Batch, Seed: uint64(c.Seed), Workers: 1, Prefetch: 1})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	return l.Next()
}

// compile builds the step's graph, adds the gradients of its learnables, and binds an SGD
// optimizer to the parameters' values (updated in place).
func compile(step Step, batch int) (G.VM, []*optim.Param, *optim.SGD, error) {
	if err := step.Build(batch); err != nil {
		return nil, nil, nil, err
	}
	learn := step.Learnables()
	nodes := make(G.Nodes, len(learn))
	params := make([]*optim.Param, len(learn))
	for i, p := range learn {
		nodes[i] = p.Node
		v, ok := p.Node.Value().Data().([]float32)
		if !ok {
			return nil, nil, nil, fmt.Errorf("bench: %s: parameter %q holds %T, want []float32", step.Name(), p.Name, p.Node.Value().Data())
		}
		params[i] = &optim.Param{Name: p.Name, Shape: p.Shape, Value: v, Grad: make([]float32, len(v))}
	}
	if _, err := G.Grad(step.Loss(), nodes...); err != nil {
		return nil, nil, nil, fmt.Errorf("bench: %s: gradients: %w", step.Name(), err)
	}
	opt, err := optim.New(params, optim.Config{Momentum: trainMomentum}, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	return G.NewTapeMachine(step.Graph(), G.BindDualValues(nodes...)), params, opt, nil
}

// collectGrads points each optimizer parameter at its node's gradient of this run (the tape
// machine allocates them anew after Reset) and checks it is finite.
func collectGrads(step Step, params []*optim.Param) error {
	for i, p := range step.Learnables() {
		g, err := p.Node.Grad()
		if err != nil {
			return fmt.Errorf("bench: %s: gradient of %q: %w", step.Name(), p.Name, err)
		}
		d, ok := g.Data().([]float32)
		if !ok || len(d) != len(params[i].Value) {
			return fmt.Errorf("bench: %s: gradient of %q holds %T (%d values), want %d float32", step.Name(), p.Name, g.Data(), len(d), len(params[i].Value))
		}
		params[i].Grad = d
	}
	return nil
}
