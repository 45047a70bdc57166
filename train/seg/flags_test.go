package seg

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/schedule"
)

// TestFlagsCommandLine pins the resolved command line train seg prints: runs are read back
// by it, so the shared schedule and optimizer flags must write it exactly as before.
func TestFlagsCommandLine(t *testing.T) {
	enc := filepath.Join(t.TempDir(), "enc.onnx") // --init must name a file
	if err := os.WriteFile(enc, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", "synthetic", "--out", "run"},
			"--encoder resnet50 --width 1 --output-stride 16 --head fcn --data synthetic --iters 20000 --batch 16 --crop 512 --lr 0.01 --schedule poly --power 0.9 --encoder-lr-mult 1 --momentum 0.9 --weight-decay 0.0005 --val-every 2000 --seed 1 --out run"},
		{[]string{"--data", "synthetic", "--out", "run", "--schedule", "step", "--milestones", "0.5,0.75", "--gamma", "0.2", "--final-lr", "0",
			"--warmup", "10", "--warmup-start", "0.1", "--encoder-lr-mult", "0.01", "--momentum", "0.8", "--weight-decay", "1e-4",
			"--nesterov", "--max-grad-norm", "5", "--init", enc, "--resume"},
			"--encoder resnet50 --width 1 --output-stride 16 --head fcn --init enc.onnx --data synthetic --iters 20000 --batch 16 --crop 512 --lr 0.01 --schedule step --final-lr 0 --milestones 0.5,0.75 --gamma 0.2 --warmup 10 --warmup-start 0.1 --encoder-lr-mult 0.01 --momentum 0.8 --weight-decay 0.0001 --nesterov --max-grad-norm 5 --val-every 2000 --seed 1 --out run --resume"},
		{[]string{"--model", enc, "--data", "synthetic", "--out", "run", "--schedule", "cosine", "--final-lr", "1e-5", "--power", "2"},
			"--model enc.onnx --data synthetic --iters 20000 --batch 16 --crop 512 --lr 0.01 --schedule cosine --final-lr 1e-05 --encoder-lr-mult 1 --momentum 0.9 --weight-decay 0.0005 --val-every 2000 --seed 1 --out run"},
	} {
		f, _ := parseFlags(t, c.args...)
		if got := strings.ReplaceAll(f.commandLine(), enc, "enc.onnx"); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", strings.Join(c.args, " "), got, c.want)
		}
	}
}

// TestFlagsDefaults checks the defaults that differ from train pretext's (the optimizer
// flags are shared, with the weight decay set per command) and the help that goes with them.
func TestFlagsDefaults(t *testing.T) {
	f, _ := parseFlags(t, "--out", "run")
	if f.WeightDecay != 0.0005 || f.Momentum != 0.9 || f.EncoderLRMult != 1 || f.Nesterov || f.MaxGradNorm != 0 {
		t.Errorf("optimizer defaults: %+v", f)
	}
	var help strings.Builder
	p, err := kong.New(&Flags{}, kong.Name("seg"), kong.Writers(&help, &help), kong.Exit(func(int) {}))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = p.Parse([]string{"--help"})
	for _, want := range []string{"--weight-decay=0.0005", "mmseg VOC: 5e-4", "--encoder-lr-mult=1", "head.*"} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("--help has no %q:\n%s", want, help.String())
		}
	}
}

// TestFlagsFromSaved restores every schedule and optimizer flag that was not given from a
// saved run, and keeps those that were.
func TestFlagsFromSaved(t *testing.T) {
	rc := &train.RunConfig{Data: "synthetic", Iters: 7, Batch: 2, Seed: 3,
		Schedule:  schedule.Schedule{Kind: schedule.Step, BaseLR: 0.5, FinalLR: 0.25, Power: 2, Milestones: []float64{0.5}, Gamma: 0.3, Warmup: 4, WarmupStart: 0.2},
		Optimizer: train.OptimizerConfig{Momentum: 0.7, WeightDecay: 0.01, Nesterov: true, MaxGradNorm: 3, EncoderLRMult: 0.1},
		Task:      json.RawMessage(`{"encoder":"resnet18","width":0.25,"output_stride":8,"head":"psp","crop":32}`)}
	f, given := parseFlags(t, "--out", "run", "--resume", "--momentum", "0.5", "--lr", "0.125")
	if err := f.fromSaved(rc, given); err != nil {
		t.Fatal(err)
	}
	want := "--encoder resnet18 --width 0.25 --output-stride 8 --head psp --data synthetic --iters 7 --batch 2 --crop 32 --lr 0.125 --schedule step --final-lr 0.25 --milestones 0.5 --gamma 0.3 --warmup 4 --warmup-start 0.2 --encoder-lr-mult 0.1 --momentum 0.5 --weight-decay 0.01 --nesterov --max-grad-norm 3 --val-every 0 --seed 3 --out run --resume"
	if got := f.commandLine(); got != want {
		t.Errorf("after fromSaved:\n got %s\nwant %s", got, want)
	}
	if f.Power != 2 {
		t.Errorf("power %v, want the saved 2", f.Power)
	}
}
