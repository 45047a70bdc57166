package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
)

// bench --json is read by scripts and the docs' tables: decode it as a reader would (no Go
// types from package bench) and check the fields' types and the relations between them.
func TestBenchInferJSON(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	code, out, errOut := runCLI(t, "bench", "--model", tinyModel(t), "--provider", "cpu", "--ort-lib", lib,
		"--batch", "1,4", "--size", "32", "--threads", "1", "--warmup", "1", "--runs", "5", "--json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var r struct {
		Model      string `json:"model"`
		Provider   string `json:"provider"`
		Threads    int    `json:"threads"`
		Warmup     int    `json:"warmup"`
		Runs       int    `json:"runs"`
		ORTVersion string `json:"onnxruntime_version"`
		Env        struct {
			CPU       string     `json:"cpu"`
			CPUs      int        `json:"cpus"`
			Date      string     `json:"date"`
			LoadStart [3]float64 `json:"load_start"`
		} `json:"env"`
		Results []struct {
			Batch      int                `json:"batch"`
			Inputs     map[string][]int64 `json:"inputs"`
			FixedBatch bool               `json:"fixed_batch"`
			LatencyMS  struct {
				N                       int
				Min, P50, P90, P99, Max float64
			} `json:"latency_ms"`
			ImagesPerS    float64 `json:"images_per_s"`
			PeakRSSMiB    float64 `json:"peak_rss_mib"`
			SessionRSSMiB float64 `json:"session_rss_mib"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if r.Provider != "cpu" || r.Threads != 1 || r.Warmup != 1 || r.Runs != 5 || r.ORTVersion == "" || r.Env.CPU == "" || r.Env.CPUs < 1 || r.Env.Date == "" {
		t.Errorf("settings and machine: %+v", r)
	}
	if len(r.Results) != 2 {
		t.Fatalf("%d results, want 2:\n%s", len(r.Results), out)
	}
	for i, batch := range []int{1, 4} {
		res := r.Results[i]
		l := res.LatencyMS
		if res.Batch != batch || len(res.Inputs["input"]) != 4 || res.Inputs["input"][0] != int64(batch) || res.Inputs["input"][2] != 32 {
			t.Errorf("result %d: batch %d, inputs %v", i, res.Batch, res.Inputs)
		}
		if l.N != 5 || !(l.Min > 0 && l.P50 >= l.Min && l.P90 >= l.P50 && l.P99 >= l.P90 && l.Max >= l.P99) {
			t.Errorf("batch %d: latency %+v", batch, l)
		}
		if want := float64(batch) / (l.P50 / 1000); math.Abs(res.ImagesPerS-want) > 1e-9*want {
			t.Errorf("batch %d: %v images/s, want batch / p50 = %v", batch, res.ImagesPerS, want)
		}
		if res.PeakRSSMiB <= 0 || res.SessionRSSMiB < 0 {
			t.Errorf("batch %d: peak %v MiB, session %v MiB", batch, res.PeakRSSMiB, res.SessionRSSMiB)
		}
	}
}

func TestBenchInferText(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	report := filepath.Join(t.TempDir(), "report.json")
	code, out, errOut := runCLI(t, "bench", "infer", "--model", tinyModel(t), "--ort-lib", lib, "--size", "32", "--threads", "1", "--runs", "2", "--report", report)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var r struct {
		Results []struct{ Batch int }
	}
	if b, err := os.ReadFile(report); err != nil {
		t.Error(err)
	} else if err := json.Unmarshal(b, &r); err != nil || len(r.Results) != 1 || r.Results[0].Batch != 1 {
		t.Errorf("--report file: %v, %+v\n%s", err, r, b)
	}
	for _, want := range []string{"cpu provider, 1 thread; 3 warm-up + 2 timed runs", "p50 ms", "1×3×32×32", "machine: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// The npm library has no CUDA provider: one line on stderr, a failure exit code (not 3, a
// crash), nothing on stdout.
func TestBenchCUDAWithCPULibrary(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	code, out, errOut := runCLI(t, "bench", "--model", tinyModel(t), "--provider", "cuda", "--ort-lib", lib, "--json")
	if code == 0 || code == 3 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "no CUDA provider") {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and one line saying the library has no CUDA provider", code, out, errOut)
	}
}

func TestBenchBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"bench", "--model", "missing.onnx"}, "missing.onnx: no such file"},
		{[]string{"bench", "--model", "m.onnx", "--batch", "2,0"}, "batch size 0"},
		{[]string{"bench", "--model", "m.onnx", "--runs", "0"}, "--runs 0"},
		{[]string{"bench", "--model", "m.onnx", "--provider", "tpu"}, "--provider"},
		{[]string{"bench", "train", "--encoder", "resnet18", "--head", "fcn", "--batch", "0"}, "--batch 0"},
		{[]string{"bench", "train", "--encoder", "resnet18", "--head", "fcn", "--method", "simclr9"}, `method "simclr9"`},
		{[]string{"bench", "train", "--encoder", "resnet18", "--head", "fcn", "--output-stride", "4"}, "output stride 4"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) || strings.Count(errOut, "\n") < 1 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
}

// bench train --json for the benchmark's network (resnet18 OS16 + MoCo FCN) at a small width.
func TestBenchTrainJSON(t *testing.T) {
	code, out, errOut := runCLI(t, "bench", "train", "--encoder", "resnet18", "--head", "fcn", "--width", "0.125",
		"--output-stride", "16", "--batch", "2", "--size", "32", "--steps", "2", "--warmup", "1", "--threads", "1", "--json")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	var r struct {
		Method, Encoder, Head, BLAS string
		OutputStride                int     `json:"output_stride"`
		Width                       float64 `json:"width"`
		Batch, Size, Steps          int
		Params                      int64
		StepS                       struct {
			N                  int
			Min, P50, P90, Max float64
		} `json:"step_s"`
		ImagesPerS     float64 `json:"images_per_s"`
		GFLOPPerStep   float64 `json:"gflop_per_step"`
		GFLOPPerS      float64 `json:"gflop_per_s"`
		FLOPConvention string  `json:"flop_convention"`
		PeakRSSMiB     float64 `json:"peak_rss_mib"`
		BLASThreads    int     `json:"blas_threads"`
		Env            struct{ CPU string }
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if r.Method != "seg" || r.Encoder != "resnet18" || r.Head != "fcn" || r.OutputStride != 16 || r.Width != 0.125 || r.Batch != 2 || r.Size != 32 ||
		r.Steps != 2 || r.Params <= 0 || r.BLAS == "" || r.BLASThreads != 1 || r.FLOPConvention == "" || r.Env.CPU == "" {
		t.Errorf("settings: %+v", r)
	}
	s := r.StepS
	if s.N != 2 || !(s.Min > 0 && s.P50 >= s.Min && s.P90 >= s.P50 && s.Max >= s.P90) {
		t.Errorf("step time %+v", s)
	}
	if math.Abs(r.ImagesPerS-2/s.P50) > 1e-9*r.ImagesPerS || math.Abs(r.GFLOPPerS-r.GFLOPPerStep/s.P50) > 1e-9*r.GFLOPPerS || r.GFLOPPerStep <= 0 || r.PeakRSSMiB <= 0 {
		t.Errorf("throughput %v images/s, %v GFLOP/s, %v GFLOP per step, peak %v MiB", r.ImagesPerS, r.GFLOPPerS, r.GFLOPPerStep, r.PeakRSSMiB)
	}
}
