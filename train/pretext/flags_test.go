package pretext

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/schedule"
)

// parseFlags reads a `train pretext` command line as the CLI does (defaults, enums, the
// embedded schedule and optimizer flags) and says which flags it gave.
func parseFlags(t testing.TB, args ...string) (*Flags, func(string) bool) {
	t.Helper()
	var f Flags
	given, err := train.ParseFlags(&f, "pretext", args)
	if err != nil {
		t.Fatal(err)
	}
	return &f, given
}

// TestFlagsCommandLine pins the resolved command line train pretext prints. The schedule's
// flags are written by schedule.Flags.WriteArgs, as train seg's are: with poly or step the
// line also has --power or --milestones and --gamma (it used to leave them out, so a line
// given again could train another schedule); with cosine, linear and constant it is as before.
func TestFlagsCommandLine(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--method", "moco", "--data", "synthetic", "--out", "run"},
			"--method moco --encoder resnet50 --width 1 --output-stride 16 --data synthetic --iters 100 --batch 256 --size 224 --scale paper --lr 0.01 --schedule poly --power 0.9 --encoder-lr-mult 1 --momentum 0.9 --weight-decay 0.0001 --seed 1 --out run"},
		{[]string{"--method", "pledmoco", "--data", "synthetic", "--out", "run", "--schedule", "cosine", "--final-lr", "0",
			"--warmup", "10", "--warmup-start", "0.1", "--encoder-lr-mult", "0.01", "--momentum", "0.8", "--weight-decay", "5e-4",
			"--nesterov", "--max-grad-norm", "5", "--resume"},
			"--method pledmoco --encoder resnet50 --width 1 --output-stride 16 --head fcn --decoder-width 128 --data synthetic --iters 100 --batch 256 --size 224 --scale paper --lr 0.01 --schedule cosine --final-lr 0 --warmup 10 --warmup-start 0.1 --encoder-lr-mult 0.01 --momentum 0.8 --weight-decay 0.0005 --nesterov --max-grad-norm 5 --seed 1 --out run --resume"},
		{[]string{"--method", "simclr", "--data", "synthetic", "--out", "run", "--schedule", "step", "--milestones", "0.5", "--gamma", "0.5"},
			"--method simclr --encoder resnet50 --width 1 --output-stride 16 --data synthetic --iters 100 --batch 256 --size 224 --scale paper --lr 0.01 --schedule step --milestones 0.5 --gamma 0.5 --encoder-lr-mult 1 --momentum 0.9 --weight-decay 0.0001 --seed 1 --out run"},
	} {
		f, _ := parseFlags(t, c.args...)
		if got := f.commandLine(100); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", strings.Join(c.args, " "), got, c.want)
		}
	}
}

// TestFlagsDefaults checks the optimizer defaults (the weight decay is set per command) and
// the help that goes with them.
func TestFlagsDefaults(t *testing.T) {
	f, _ := parseFlags(t, "--out", "run")
	if f.WeightDecay != DefaultWeightDecay || f.Momentum != 0.9 || f.EncoderLRMult != 1 || f.Nesterov || f.MaxGradNorm != 0 {
		t.Errorf("optimizer defaults: %+v", f)
	}
	var help strings.Builder
	p, err := kong.New(&Flags{}, kong.Name("pretext"), kong.Writers(&help, &help), kong.Exit(func(int) {}))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = p.Parse([]string{"--help"})
	for _, want := range []string{"--weight-decay=0.0001", "MoCo, SimSiam: 1e-4", "--encoder-lr-mult=1", "dense_projector."} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("--help has no %q:\n%s", want, help.String())
		}
	}
}

// TestFlagsFromSaved restores every flag that was not given from a saved run, and keeps
// those that were.
func TestFlagsFromSaved(t *testing.T) {
	rc := &train.RunConfig{Method: "plmoco", Data: "synthetic", Iters: 7, Batch: 2, Seed: 3, CheckpointEvery: 5, Keep: 1,
		Schedule:  schedule.Schedule{Kind: schedule.Linear, BaseLR: 0.5, FinalLR: 0.25, Power: 2, Milestones: []float64{0.5}, Gamma: 0.3, Warmup: 4, WarmupStart: 0.2},
		Optimizer: train.OptimizerConfig{Momentum: 0.7, WeightDecay: 0.01, Nesterov: true, MaxGradNorm: 3, EncoderLRMult: 0.1},
		Task:      json.RawMessage(`{"method":"plmoco","net":{"encoder":"resnet18","width":0.25,"output_stride":8},"size":32,"scale":"cpu"}`)}
	f, given := parseFlags(t, "--out", "run", "--resume", "--momentum", "0.5", "--lr", "0.125")
	s, err := f.fromSaved(rc, given)
	if err != nil {
		t.Fatal(err)
	}
	if s.Method != "plmoco" {
		t.Errorf("saved settings %+v", s)
	}
	want := "--method plmoco --encoder resnet18 --width 0.25 --output-stride 8 --data synthetic --iters 7 --batch 2 --size 32 --scale cpu --lr 0.125 --schedule linear --final-lr 0.25 --warmup 4 --warmup-start 0.2 --encoder-lr-mult 0.1 --momentum 0.5 --weight-decay 0.01 --nesterov --max-grad-norm 3 --seed 3 --out run --resume"
	if got := f.commandLine(7); got != want {
		t.Errorf("after fromSaved:\n got %s\nwant %s", got, want)
	}
	if f.Power != 2 || f.Gamma != 0.3 || len(f.Milestones) != 1 || f.CheckpointEvery != 5 || f.Keep != 1 {
		t.Errorf("not restored: power %v gamma %v milestones %v checkpoint-every %d keep %d", f.Power, f.Gamma, f.Milestones, f.CheckpointEvery, f.Keep)
	}
}
