package bench

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// WriteText prints an inference report as a table with its settings and machine.
func (r *InferReport) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("model %s: onnxruntime %s, %s provider", r.Model, r.ORTVersion, r.Provider)
	if r.Provider == "cuda" {
		ew.printf(" (device %d: %s)", r.Device, r.Env.GPU)
	}
	ew.printf(", %s; %d warm-up + %d timed runs per batch size\n", plural(r.Threads, "thread"), r.Warmup, r.Runs)
	ew.printf("library %s\n", r.ORTLibrary)
	r.Env.write(ew)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "batch\tinput\tsession ms\tmin ms\tp50 ms\tp90 ms\tp99 ms\tCPU ms p50\timages/s\tpeak RSS MiB\tsession +MiB\t")
	for _, res := range r.Results {
		l := res.LatencyMS
		fmt.Fprintf(tw, "%d\t%s\t%.0f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.0f\t%.0f\t\n", res.Batch, shapesString(res.Inputs),
			res.SessionMS, l.Min, l.P50, l.P90, l.P99, res.CPUMS.P50, res.ImagesPerS, res.PeakRSSMiB, res.SessionRSSMiB)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(r.Results) > 0 {
		if res := r.Results[0]; res.FixedBatch || res.FixedSize {
			var fixed []string
			if res.FixedBatch {
				fixed = append(fixed, "its batch axis (--batch not applied)")
			}
			if res.FixedSize {
				fixed = append(fixed, "its spatial axes (--size not applied)")
			}
			ew.printf("the model fixes %s: it ran at its own shape\n", strings.Join(fixed, " and "))
		}
	}
	if !r.PeakReset {
		ew.printf("peak RSS could not be reset per session: it covers the whole process\n")
	}
	return ew.err
}

// WriteText prints a training-step report.
func (r *TrainReport) WriteText(w io.Writer) error {
	ew := &errWriter{w: w}
	ew.printf("bench train: %s, %s output stride %d width %g + %s", r.Method, r.Encoder, r.OutputStride, r.Width, r.Head)
	switch {
	case r.Classes > 0:
		ew.printf(" (%d classes)", r.Classes)
	case r.DecoderWidth > 0:
		ew.printf(" (decoder, %d channels)", r.DecoderWidth)
	}
	ew.printf(", batch %d at %d×%d: %s trained parameters\n", r.Batch, r.Size, r.Size, thousands(r.Params))
	switch r.Device {
	case "", "cpu":
		ew.printf("device: cpu\n")
	case "emulated":
		ew.printf("device: emulated (the CUDA kernels under the CPU emulator, a test device: its times say nothing about a GPU)\n")
	default:
		gemm := "fp32"
		if r.TF32 {
			gemm = "TF32"
		}
		ew.printf("device: %s (parameters, momentum and BatchNorm statistics resident; the batch in through pinned staging; GEMMs in %s)\n", r.Device, gemm)
	}
	if r.MethodConfig != "" {
		ew.printf("%s at %s scale: %s\n", r.Method, r.Scale, r.MethodConfig)
	}
	s := r.StepS
	ew.printf("step: p50 %.3f s (min %.3f, p90 %.3f, max %.3f, std %.3f) over %d steps after %d warm-up; building the graph took %.1f s\n",
		s.P50, s.Min, s.P90, s.Max, s.Std, s.N, r.Warmup, r.BuildS)
	ew.printf("CPU time per step (user+system, all threads): p50 %.3f s (min %.3f, max %.3f)\n", r.CPUS.P50, r.CPUS.Min, r.CPUS.Max)
	ew.printf("throughput: %.3g images/s, %.3g GFLOP/s (%.3g GFLOP per step = 2 × (3 × %.2f G trained + %.2f G forward-only multiply-adds))\n",
		r.ImagesPerS, r.GFLOPPerS, r.GFLOPPerStep, float64(r.Work.TrainedMACs)/1e9, float64(r.Work.ForwardOnlyMACs)/1e9)
	ew.printf("loss: %.4f at the first step, %.4f at the last\n", r.LossFirst, r.LossLast)
	ew.printf("memory: peak RSS %.0f MiB, of which %.0f MiB over the %.0f MiB before the network was built\n", r.PeakRSSMiB, r.NetworkRSSMiB, r.BaselineRSSMiB)
	if r.MemoryPlan != "" {
		ew.printf("%s; scratch pools %.1f MiB\n", r.MemoryPlan, r.ScratchMiB)
	}
	ew.printf("BLAS %s (%s), GOMAXPROCS %d\n", r.BLAS, plural(r.BLASThreads, "thread"), r.GoMaxProcs)
	r.Env.write(ew)
	if !r.PeakReset {
		ew.printf("peak RSS could not be reset before building: it covers the whole process\n")
	}
	if r.Profile != nil {
		r.Profile.write(ew)
	}
	return ew.err
}

// write prints the machine line.
func (e Env) write(ew *errWriter) {
	ew.printf("machine: %s, %d CPUs", e.CPU, e.CPUs)
	if e.GPU != "" {
		ew.printf(", GPU %s", e.GPU)
	}
	ew.printf("; %s %s", e.Go, e.Platform)
	if e.Commit != "" {
		ew.printf(", commit %s", e.Commit)
	}
	ew.printf("; %s; load average %.2f at the start, %.2f at the end\n", e.Date, e.LoadStart[0], e.LoadEnd[0])
}

func shapesString(shapes map[string][]int64) string {
	var parts []string
	for _, name := range sortedNames(shapes) {
		dims := make([]string, len(shapes[name]))
		for i, d := range shapes[name] {
			dims[i] = strconv.FormatInt(d, 10)
		}
		s := strings.Join(dims, "×")
		if len(shapes) > 1 {
			s = name + " " + s
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

func sortedNames(m map[string][]int64) []string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// thousands writes n with comma separators: 12,952,405.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// errWriter keeps the first write error (image/png's sticky-error pattern).
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }
