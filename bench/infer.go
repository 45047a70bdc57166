package bench

import (
	"errors"
	"io/fs"
	"os"
	"runtime"
	"time"

	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
)

// Defaults Infer uses for zero fields of InferConfig.
const (
	DefaultSize = 512
	DefaultRuns = 20
)

// InferConfig says what Infer runs. Zero fields take the defaults noted.
type InferConfig struct {
	Model    string // the ONNX file
	Provider string // "cpu" (default) or "cuda"
	Device   int    // CUDA device number
	Library  string // onnxruntime shared library (--ort-lib); "" finds one (ort.LibraryPath)
	Batches  []int  // batch sizes for a dynamic first axis; nil means {1}
	Size     int    // side for dynamic spatial axes of NCHW inputs; 0 means DefaultSize
	Threads  int    // onnxruntime intra-op threads; 0 means one per logical CPU
	Warmup   int    // untimed runs before the timed ones, per batch size
	Runs     int    // timed runs per batch size; 0 means DefaultRuns
	Seed     int64  // of the input values
}

// InferReport is what Infer measured, with the settings and the machine.
type InferReport struct {
	Model      string        `json:"model"`
	Provider   string        `json:"provider"`
	Device     int           `json:"device"` // CUDA device (0 for cpu)
	Threads    int           `json:"threads"`
	Warmup     int           `json:"warmup"`
	Runs       int           `json:"runs"`
	ORTVersion string        `json:"onnxruntime_version"`
	ORTLibrary string        `json:"onnxruntime_library"`
	PeakReset  bool          `json:"peak_reset"` // false: peak RSS covers the whole process, not one session
	Env        Env           `json:"env"`
	Results    []InferResult `json:"results"`
}

// InferResult is one batch size's measurement. Latencies are wall-clock milliseconds of
// Session.Run: copying inputs into onnxruntime, running, and copying outputs into Go.
type InferResult struct {
	Batch         int                `json:"batch"`       // images per run: the first input's first axis
	Inputs        map[string][]int64 `json:"inputs"`      // the shapes run
	FixedBatch    bool               `json:"fixed_batch"` // the model fixes the batch axis, so --batch did not apply
	FixedSize     bool               `json:"fixed_size"`  // the model fixes the spatial axes, so --size did not apply
	SessionMS     float64            `json:"session_ms"`  // creating the session (loading and optimising the graph)
	LatencyMS     Summary            `json:"latency_ms"`
	CPUMS         Summary            `json:"cpu_ms"`          // process CPU milliseconds per run (user+system, all threads)
	ImagesPerS    float64            `json:"images_per_s"`    // Batch / p50
	PeakRSSMiB    float64            `json:"peak_rss_mib"`    // VmHWM while this batch size ran
	SessionRSSMiB float64            `json:"session_rss_mib"` // PeakRSSMiB − the resident set before the session
}

func (c InferConfig) normalized() (InferConfig, error) {
	if c.Model == "" {
		return c, configErr("no model file given")
	}
	if c.Provider == "" {
		c.Provider = "cpu"
	}
	if c.Provider != "cpu" && c.Provider != "cuda" {
		return c, configErr("provider %q; want cpu or cuda", c.Provider)
	}
	if c.Device < 0 {
		return c, configErr("CUDA device %d; want a number ≥ 0", c.Device)
	}
	if len(c.Batches) == 0 {
		c.Batches = []int{1}
	}
	for _, b := range c.Batches {
		if b <= 0 {
			return c, configErr("batch size %d in %v; want sizes ≥ 1", b, c.Batches)
		}
	}
	if c.Size == 0 {
		c.Size = DefaultSize
	}
	if c.Size < 0 {
		return c, configErr("size %d; want a positive side in pixels", c.Size)
	}
	if c.Threads == 0 {
		c.Threads = runtime.NumCPU()
	}
	if c.Threads < 0 {
		return c, configErr("%d threads; want ≥ 1 (or 0 for one per CPU)", c.Threads)
	}
	if c.Warmup < 0 {
		return c, configErr("%d warm-up runs; want ≥ 0", c.Warmup)
	}
	if c.Runs == 0 {
		c.Runs = DefaultRuns
	}
	if c.Runs < 0 {
		return c, configErr("%d runs; want ≥ 1", c.Runs)
	}
	return c, nil
}

// Infer loads the model into onnxruntime once per batch size and times Runs runs after
// Warmup untimed ones. A model whose batch axis is fixed runs once, at its own batch, whatever
// Batches holds.
func Infer(cfg InferConfig) (*InferReport, error) {
	c, err := cfg.normalized()
	if err != nil {
		return nil, err
	}
	// A missing model is reported before onnxruntime is loaded, whose errors would come first.
	if _, err := os.Stat(c.Model); errors.Is(err, fs.ErrNotExist) {
		return nil, &onnx.FormatError{File: c.Model, Msg: "no such file"}
	}
	if err := ort.Init(c.Library); err != nil {
		return nil, err
	}
	r := &InferReport{Model: c.Model, Provider: c.Provider, Device: c.Device, Threads: c.Threads, Warmup: c.Warmup,
		Runs: c.Runs, ORTVersion: ort.Version(), ORTLibrary: ort.Loaded(), Env: startEnv(c.Provider == "cuda", c.Device)}
	opts := ort.Options{Provider: c.Provider, Threads: c.Threads, DeviceID: c.Device}
	for _, batch := range c.Batches {
		res, peakReset, err := inferBatch(c, opts, batch)
		if err != nil {
			return nil, err
		}
		r.PeakReset = peakReset
		r.Results = append(r.Results, res)
		if res.FixedBatch {
			break // every other --batch value would run the same shapes
		}
	}
	r.Env.finish()
	return r, nil
}

// inferBatch creates a session, feeds seeded inputs at batch and c.Size, and times the runs.
func inferBatch(c InferConfig, opts ort.Options, batch int) (InferResult, bool, error) {
	before, peakReset, err := baseline()
	if err != nil {
		return InferResult{}, false, err
	}
	start := time.Now()
	s, err := ort.NewSessionFile(c.Model, opts) // its errors name the file
	if err != nil {
		return InferResult{}, false, err
	}
	defer s.Close()
	res := InferResult{SessionMS: ms(time.Since(start))}
	inputs := s.Inputs()
	fed, err := resolveShapes(c.Model, inputs, batch, c.Size)
	if err != nil {
		return InferResult{}, false, err
	}
	in, err := feeds(c.Model, inputs, fed, c.Seed)
	if err != nil {
		return InferResult{}, false, err
	}
	res.Batch, res.Inputs = fed.images(inputs), fed.shapes
	res.FixedBatch, res.FixedSize = !fed.batchApplied, !fed.sizeApplied
	times, cpu := make([]float64, 0, c.Runs), make([]float64, 0, c.Runs)
	for i := 0; i < c.Warmup+c.Runs; i++ {
		t0, cpu0 := time.Now(), processCPU()
		if _, err := s.Run(in); err != nil {
			return InferResult{}, false, err
		}
		if i >= c.Warmup {
			times, cpu = append(times, ms(time.Since(t0))), append(cpu, 1000*(processCPU()-cpu0))
		}
	}
	if res.LatencyMS, err = Summarize(times); err != nil {
		return InferResult{}, false, err
	}
	if res.CPUMS, err = Summarize(cpu); err != nil {
		return InferResult{}, false, err
	}
	res.ImagesPerS = float64(res.Batch) / (res.LatencyMS.P50 / 1000)
	after, err := ReadMemory()
	if err != nil {
		return InferResult{}, false, err
	}
	res.PeakRSSMiB, res.SessionRSSMiB = after.HWM, after.HWM-before.RSS
	return res, peakReset, nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
