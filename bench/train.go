package bench

import (
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/blas"
	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/train/pretext"
)

// TrainConfig says which step Train times. Zero fields take the defaults noted.
type TrainConfig struct {
	Method string // a name from Methods; "" means "seg"
	// Spec is the network: Encoder, Width, OutputStride (0 means 16), Head, Classes (seg; 0
	// means 21, PASCAL VOC's), DecoderWidth (encoder-decoder pretext methods) and Seed.
	Spec   graphs.Spec
	Scale  pretext.Scale // pretext methods' hyper-parameters; "" means pretext.CPU
	Batch  int           // 0 means 8
	Size   int           // square crop or view side; 0 means 128
	Steps  int           // timed steps; 0 means 10
	Warmup int           // untimed steps first (the first step also allocates every buffer)
	// Threads is GOMAXPROCS while Train runs (0 means one per CPU): the CPUs the ops split
	// their work over. OpenBLAS keeps the thread count internal/blas gave it (one, as the
	// training engine runs it; see that package for why).
	Threads int
	Seed    int64 // of the data and of per-step random choices
	// Profile times every op run of the timed steps (ops.StartProfile) and the parts of the
	// step outside the ops, into TrainReport.Profile.
	Profile bool
	// Device is where the steps run: "" or "cpu", "emulated" (the CI test device: slow) or
	// "cuda", with the training state resident on the device (a pretext method's momentum
	// network and queues too: train.ResidentTask).
	Device string
	// TF32 lets cuBLAS use TF32 tensor cores on cuda (bench train --tf32); other devices
	// refuse it.
	TF32 bool
	// NoMemoryPlan times the CPU step without the memory plan (ops.PlanMemory): every op keeps
	// its own output buffer, as before the plan; for before/after comparisons.
	NoMemoryPlan bool
	// MemoryPlan holds the plan's options (tests only: they break it on purpose).
	MemoryPlan ops.PlanOptions
}

// TrainReport is what Train measured, with the settings and the machine.
type TrainReport struct {
	Method         string       `json:"method"`
	Device         string       `json:"device"`                  // cpu, emulated or cuda
	TF32           bool         `json:"tf32,omitempty"`          // cuBLAS's TF32 mode (cuda)
	MethodConfig   string       `json:"method_config,omitempty"` // a pretext method's hyper-parameters
	Scale          string       `json:"scale,omitempty"`
	Encoder        string       `json:"encoder"`
	Head           string       `json:"head"`
	Width          float64      `json:"width"`
	OutputStride   int          `json:"output_stride"`
	Classes        int          `json:"classes,omitempty"`
	DecoderWidth   int          `json:"decoder_width,omitempty"`
	Batch          int          `json:"batch"`
	Size           int          `json:"size"`
	Steps          int          `json:"steps"`
	Warmup         int          `json:"warmup"`
	Params         int64        `json:"params"`  // trained values
	BuildS         float64      `json:"build_s"` // importing, differentiating and compiling the graph
	StepS          Summary      `json:"step_s"`  // seconds per step: bind, forward, backward, update, after-step
	CPUS           Summary      `json:"cpu_s"`   // process CPU seconds per step (user+system, all threads)
	ImagesPerS     float64      `json:"images_per_s"`
	Work           Work         `json:"work"`
	GFLOPPerStep   float64      `json:"gflop_per_step"`
	GFLOPPerS      float64      `json:"gflop_per_s"` // GFLOPPerStep / p50
	FLOPConvention string       `json:"flop_convention"`
	LossFirst      float64      `json:"loss_first"` // the loss of the first and last steps: the network trains
	LossLast       float64      `json:"loss_last"`
	PeakRSSMiB     float64      `json:"peak_rss_mib"`     // VmHWM from building the network to the last step
	BaselineRSSMiB float64      `json:"baseline_rss_mib"` // resident set before the network was built
	NetworkRSSMiB  float64      `json:"network_rss_mib"`  // PeakRSSMiB − BaselineRSSMiB
	PeakReset      bool         `json:"peak_reset"`       // false: the peak covers the whole process
	MemoryPlan     string       `json:"memory_plan"`      // the plan's summary (ops.MemoryPlan.String), or "off"
	ScratchMiB     float64      `json:"scratch_mib"`      // the ops' scratch pools after the last step (ops.ScratchKeptBytes)
	BLAS           string       `json:"blas"`
	BLASThreads    int          `json:"blas_threads"`
	GoMaxProcs     int          `json:"gomaxprocs"`
	Env            Env          `json:"env"`
	Profile        *StepProfile `json:"profile,omitempty"` // with TrainConfig.Profile
}

// plan is the memory plan's options for the runner, nil without one.
func (c TrainConfig) plan() *ops.PlanOptions {
	if c.NoMemoryPlan {
		return nil
	}
	return &c.MemoryPlan
}

func (c TrainConfig) normalized() (TrainConfig, error) {
	if c.Method == "" {
		c.Method = "seg"
	}
	if !slices.Contains(Methods(), c.Method) {
		return c, configErr("method %q; want one of %v", c.Method, Methods())
	}
	if c.Scale == "" {
		c.Scale = pretext.CPU
	}
	if c.Spec.Width == 0 {
		c.Spec.Width = 1
	}
	if c.Spec.OutputStride == 0 {
		c.Spec.OutputStride = 16
	}
	if c.Spec.Classes == 0 {
		c.Spec.Classes = 21
	}
	if c.Spec.Classes < 2 || c.Spec.Classes > 255 {
		return c, configErr("%d classes; want 2 to 255 (label 255 is ignored)", c.Spec.Classes)
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
	switch c.Device {
	case "", "cpu":
		c.Device = "cpu"
	case "emulated", "cuda":
	default:
		return c, configErr("device %q; want cpu, emulated or cuda", c.Device)
	}
	if c.TF32 && c.Device != "cuda" {
		return c, configErr("tf32 on device %s: TF32 is a mode of CUDA's tensor cores; want device cuda", c.Device)
	}
	return c, nil
}

// Train builds the method's task, feeds it one batch made by data's loader from noise images
// (the same batch every step: loading is not timed), and times Warmup+Steps steps of bind,
// forward, backward, SGD update and after-step work, keeping the last Steps.
func Train(cfg TrainConfig) (*TrainReport, error) {
	c, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(c.Threads))
	r := &TrainReport{Method: c.Method, Device: c.Device, TF32: c.TF32, Batch: c.Batch, Size: c.Size, Steps: c.Steps, Warmup: c.Warmup,
		BLAS: blas.Name, BLASThreads: blas.Threads(), GoMaxProcs: runtime.GOMAXPROCS(0),
		FLOPConvention: FLOPConvention, Env: startEnv(false, 0)}
	step, ds, err := newStep(c, r)
	if err != nil {
		return nil, err
	}
	batch, err := oneBatch(ds, step.DataTask(), c)
	if err != nil {
		return nil, err
	}
	before, peakReset, err := baseline()
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	run, err := newRunnerPlanned(step, c.Batch, c.Device, c.TF32, c.plan())
	if err != nil {
		return nil, err
	}
	defer run.close()
	r.BuildS = time.Since(t0).Seconds()
	r.Work = run.work
	if slices.Contains(momentumMethods, c.Method) {
		r.Work.ForwardOnlyMACs += r.Work.TrainedMACs
	}
	times, cpu := make([]float64, 0, c.Steps), make([]float64, 0, c.Steps)
	var prof *ops.Profile
	for i := 0; i < c.Warmup+c.Steps; i++ {
		if c.Profile && i == c.Warmup {
			prof, run.phases = ops.StartProfile(), phaseTimes{}
		}
		t, cpu0 := time.Now(), processCPU()
		loss, err := run.step(batch, i)
		if err != nil {
			return nil, err
		}
		elapsed, cpuUsed := time.Since(t).Seconds(), processCPU()-cpu0
		if i == 0 {
			r.LossFirst = loss
		}
		r.LossLast = loss
		if i >= c.Warmup {
			times, cpu = append(times, elapsed), append(cpu, cpuUsed)
		}
	}
	if prof != nil {
		ops.StopProfile()
		r.Profile = newStepProfile(prof, run.phases, c.Steps)
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
	for _, p := range run.params {
		r.Params += int64(len(p.Value))
	}
	r.ImagesPerS = float64(c.Batch) / r.StepS.P50
	r.GFLOPPerStep = r.Work.FLOPs() / 1e9
	r.GFLOPPerS = r.GFLOPPerStep / r.StepS.P50
	r.PeakRSSMiB, r.BaselineRSSMiB, r.NetworkRSSMiB, r.PeakReset = after.HWM, before.RSS, after.HWM-before.RSS, peakReset
	r.MemoryPlan = "off"
	if run.plan != nil {
		r.MemoryPlan = run.plan.String()
	}
	r.ScratchMiB = float64(ops.ScratchKeptBytes()) / (1 << 20)
	r.Env.finish()
	return r, nil
}

// oneBatch makes the batch every step reuses: c.Batch noise images through the step's data
// task (crops and labels for seg, two augmented views for the two-view methods, …).
func oneBatch(ds data.Dataset, task data.Task, c TrainConfig) (*data.Batch, error) {
	l, err := data.NewLoader(ds, task, data.LoaderConfig{Batch: c.Batch, Seed: uint64(c.Seed), Workers: 1, Prefetch: 1})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	b, err := l.Next()
	if err != nil {
		return nil, fmt.Errorf("bench: making a batch for %s: %w", ds.Name(), err)
	}
	return b, nil
}
