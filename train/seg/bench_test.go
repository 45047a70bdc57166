package seg

import (
	"context"
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/blas"
)

// BenchmarkTrainSegStep times whole training steps of `ssl4dp train seg` — data loading
// (synthetic scenes rendered per item, scale-crop-flip), forward, backward, SGD with
// momentum and weight decay, logging — for ResNet-18 at width 1 with MoCo's FCN head, output
// stride 16, batch 8, 128×128 crops. It runs the engine for 3 + b.N steps and reports the
// median step time from metrics.jsonl (the first 3 steps, which set up buffers, left out),
// and the heap allocations of one step (two runs of different length, differenced).
func BenchmarkTrainSegStep(b *testing.B) {
	benchSteps(b, "1", "128", "8", "synthetic:size=128,n=512,val=8")
}

// BenchmarkTrainSegLearnsConfig times the steps of TestTrainSegLearns' configuration.
func BenchmarkTrainSegLearnsConfig(b *testing.B) {
	benchSteps(b, "0.125", "32", "16", learnData)
}

func benchSteps(b *testing.B, width, crop, batch, spec string) {
	args := func(dir string, iters int) []string {
		return []string{"--encoder", "resnet18", "--width", width, "--head", "fcn", "--data", spec, "--crop", crop,
			"--batch", batch, "--iters", strconv.Itoa(iters), "--val-every", "0", "--val-limit", "1",
			"--checkpoint-every", "100000", "--out", dir}
	}
	const warm = 3
	allocs := func(iters int) uint64 {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		trainSeg(b, args(filepath.Join(b.TempDir(), "a"), iters)...)
		runtime.ReadMemStats(&m1)
		return m1.Mallocs - m0.Mallocs
	}
	perStep := float64(allocs(warm+4)-allocs(warm)) / 4

	dir := filepath.Join(b.TempDir(), "run")
	b.ResetTimer()
	f, given := parseFlags(b, args(dir, warm+b.N)...)
	if err := f.Run(context.Background(), io.Discard, given); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	lg := readLog(b, dir)
	var d []float64
	for i := warm; i < len(lg.Train); i++ {
		d = append(d, lg.Train[i].TimeS-lg.Train[i-1].TimeS)
	}
	slices.Sort(d)
	med := d[len(d)/2]
	n, _ := strconv.Atoi(batch)
	b.ReportMetric(med, "s/step")
	b.ReportMetric(float64(n)/med, "img/s")
	b.ReportMetric(perStep, "allocs/step")
	b.Logf("BLAS %s, GOMAXPROCS %d", blas.Name, runtime.GOMAXPROCS(0))
}
