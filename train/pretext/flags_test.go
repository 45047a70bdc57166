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

// The key chunks a batch gets without --key-chunks: the largest count ≤ the default that
// leaves ≥ 2 images in each of equal chunks.
func TestKeyChunksFor(t *testing.T) {
	for _, c := range []struct{ batch, want, got int }{
		{256, 8, 8}, {16, 8, 8}, {8, 8, 4}, {12, 8, 6}, {10, 8, 5}, {7, 8, 1}, {2, 8, 1}, {1, 8, 1}, {32, 2, 2}, {6, 2, 2}, {3, 2, 1},
	} {
		if k := KeyChunksFor(c.batch, c.want); k != c.got {
			t.Errorf("KeyChunksFor(%d, %d) = %d, want %d", c.batch, c.want, k, c.got)
		}
	}
}

// PLR's default grid: the largest of 4, 3, 2 with ≥ 2×2 cells of the 1/stride map per patch.
func TestPLRGrid(t *testing.T) {
	for _, c := range []struct{ size, stride, want int }{
		{224, 16, 4}, {64, 16, 2}, {64, 8, 4}, {96, 16, 3}, {32, 16, 1}, {48, 8, 3}, {128, 16, 4},
	} {
		if g := PLRGrid(c.size, c.stride); g != c.want {
			t.Errorf("PLRGrid(%d, %d) = %d, want %d", c.size, c.stride, g, c.want)
		}
	}
}

// fitDefaults fits the key chunks to --batch and PLR's grid to the view, says so, keeps a
// given --key-chunks or --grid (warning about a grid with fewer than 2×2 cells per patch),
// and leaves a resumed run's recorded settings alone.
func TestFitDefaults(t *testing.T) {
	fit := func(resumed bool, args ...string) (Config, string) {
		f, given := parseFlags(t, append([]string{"--out", "run", "--data", "synthetic"}, args...)...)
		c, err := f.methodConfig(nil, given)
		if err != nil {
			t.Fatal(err)
		}
		return c, strings.Join(f.fitDefaults(c, resumed, given), "\n")
	}
	c, notes := fit(false, "--method", "moco", "--batch", "8")
	if c.(*MoCoConfig).KeyChunks != 4 || !contains(notes, "key chunks 4, not the default 8: --batch 8") {
		t.Errorf("moco --batch 8: %d key chunks, notes %q; want 4, said", c.(*MoCoConfig).KeyChunks, notes)
	}
	c, notes = fit(false, "--method", "pledmoco", "--batch", "12")
	if c.(*PLMoCoConfig).KeyChunks != 6 || !contains(notes, "key chunks 6") {
		t.Errorf("pledmoco --batch 12: %d key chunks, notes %q; want 6", c.(*PLMoCoConfig).KeyChunks, notes)
	}
	if c, notes = fit(false, "--method", "moco", "--batch", "256"); c.(*MoCoConfig).KeyChunks != 8 || notes != "" {
		t.Errorf("moco --batch 256: %d key chunks, notes %q; want 8, nothing said", c.(*MoCoConfig).KeyChunks, notes)
	}
	if c, _ = fit(false, "--method", "moco", "--batch", "8", "--key-chunks", "8"); c.(*MoCoConfig).KeyChunks != 8 {
		t.Errorf("a given --key-chunks 8 became %d", c.(*MoCoConfig).KeyChunks)
	}
	if c, notes = fit(true, "--method", "moco", "--batch", "8"); c.(*MoCoConfig).KeyChunks != 8 || notes != "" {
		t.Errorf("resumed: %d key chunks, notes %q; want the recorded 8, nothing said", c.(*MoCoConfig).KeyChunks, notes)
	}
	c, notes = fit(false, "--method", "plr", "--size", "64")
	if c.(*PLRConfig).Grid != 2 || !contains(notes, "grid 2 from the view and stride: 32-pixel patches, 2×2 cells of the 1/16 map") || contains(notes, "warning") {
		t.Errorf("plr --size 64: grid %d, notes %q; want 2, said, no warning", c.(*PLRConfig).Grid, notes)
	}
	if c, notes = fit(false, "--method", "plr"); c.(*PLRConfig).Grid != 4 || notes != "" {
		t.Errorf("plr at 224: grid %d, notes %q; want 4, nothing said", c.(*PLRConfig).Grid, notes)
	}
	c, notes = fit(false, "--method", "plr", "--size", "64", "--grid", "4")
	if c.(*PLRConfig).Grid != 4 || !contains(notes, "warning: grid 4 on 64-pixel views makes 16-pixel patches, 1×1 cells of the 1/16 map each") || !contains(notes, "Use --grid 2") {
		t.Errorf("plr --size 64 --grid 4: grid %d, notes %q; want 4 kept with a warning", c.(*PLRConfig).Grid, notes)
	}
	if _, notes = fit(false, "--method", "plr", "--size", "64", "--grid", "4", "--output-stride", "8"); notes != "" {
		t.Errorf("plr --size 64 --grid 4 --output-stride 8 (2×2 cells): notes %q, want none", notes)
	}
}

// `train pretext --method moco --batch 8` failed before the key chunks were fitted to the
// batch (8 chunks of 1 image); it now trains, with 4, and says so.
func TestMoCoBatch8Trains(t *testing.T) {
	dir := t.TempDir()
	f, given := parseFlags(t, "--method", "moco", "--encoder", "resnet18", "--width", "0.125", "--size", "32", "--batch", "8",
		"--iters", "1", "--data", "synthetic:n=16,size=32,val=4", "--out", dir)
	var log strings.Builder
	if err := f.Run(t.Context(), &log, given); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if !contains(log.String(), "key chunks 4, not the default 8") {
		t.Errorf("the log does not say the key chunks were chosen:\n%s", log.String())
	}
}
