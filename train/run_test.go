package train

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/train/checkpoint"
	"github.com/ssl4dp/ssl4dp/train/runlog"
	"github.com/ssl4dp/ssl4dp/train/schedule"
)

const quadData = "synthetic:size=16,n=24,classes=3"

func quadConfig(dir string) Config {
	return Config{Dir: dir, Data: quadData, Iters: 20, Batch: 4, Seed: 3, CheckpointEvery: 5, Workers: 2,
		LR: schedule.Flags{LR: 0.1, Schedule: "poly", Power: 0.9}, Log: io.Discard}
}

// reference replays the data stream the engine sees and applies w ← w − lr·mult·(w − x) in
// float32 as the optimizer does (no momentum, no decay), for head.w (mult 1) and enc.w.
func reference(t *testing.T, cfg Config, encMult float64) []float32 {
	t.Helper()
	ds, err := data.Open(cfg.Data, data.Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := data.NewLoader(ds, data.DefaultSegTrain(8), data.LoaderConfig{Batch: cfg.Batch, Seed: cfg.Seed, Shuffle: true, DropLast: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sched, err := cfg.LR.Build(cfg.Iters)
	if err != nil {
		t.Fatal(err)
	}
	w := make([]float32, 8)
	for i := range w {
		w[i] = 0.5
	}
	for step := 0; step < cfg.Iters; step++ {
		b, err := l.Next()
		if err != nil {
			t.Fatal(err)
		}
		x := target(b)
		for i := range w {
			mult := 1.0
			if i >= 4 {
				mult = encMult
			}
			lr := float32(sched.LR(step) * mult)
			w[i] -= float32(lr * (w[i] - x[i%4]))
		}
	}
	return w
}

// The engine feeds the task's gradients to SGD with the schedule's LR and the head/encoder
// groups: its weights equal a hand-written replay of the same data, bit for bit.
func TestRunMatchesHandWrittenSGD(t *testing.T) {
	dir := t.TempDir()
	q := newQuad()
	cfg := quadConfig(dir)
	cfg.EncoderLRMult = 0.1
	if err := Run(context.Background(), quadHeads{q}, cfg); err != nil {
		t.Fatal(err)
	}
	got, want := q.weights(), reference(t, cfg, 0.1)
	if !slices.Equal(got, want) {
		t.Fatalf("weights %v, hand-written SGD %v", got, want)
	}
	// The records: 20 train lines with the schedule's LR and the loss parts, the outputs and
	// run.json.
	lg, err := runlog.ReadFile(filepath.Join(dir, runlog.FileName))
	if err != nil {
		t.Fatal(err)
	}
	sched, _ := cfg.LR.Build(cfg.Iters)
	if len(lg.Train) != 20 {
		t.Fatalf("%d train records, want 20", len(lg.Train))
	}
	for i, r := range lg.Train {
		if r.Step != i || r.LR != sched.LR(i) || math.Abs(r.Loss-(r.Losses["head"]+r.Losses["enc"])) > 1e-6 || !(r.ImagesPerSec > 0) {
			t.Fatalf("record %d: %+v", i, r)
		}
	}
	out, err := os.ReadFile(filepath.Join(dir, "w.bin"))
	if err != nil {
		t.Fatal(err)
	}
	files, _ := q.Checkpoint()
	if !bytes.Equal(out, files["w.bin"]) {
		t.Fatal("w.bin in the run folder is not the final weights")
	}
	ri, err := ReadRunInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ri.Method != "quad" || ri.Steps != 20 || ri.Data != quadData || len(ri.Classes) != 3 || ri.Mean != data.ImageNetMean ||
		!slices.Equal(ri.Outputs, []string{"w.bin"}) || ri.FinalLoss != lg.Train[19].Loss || math.Abs(ri.Epochs-20*4/24.0) > 1e-9 {
		t.Fatalf("run.json: %+v", ri)
	}
	_, step, err := checkpoint.Latest(dir)
	if err != nil || step != 20 {
		t.Fatalf("latest checkpoint: step %d, %v; want 20", step, err)
	}
}

func TestEncoderLRMultNeedsHeads(t *testing.T) {
	cfg := quadConfig(t.TempDir())
	cfg.EncoderLRMult = 0.5
	err := Run(context.Background(), newQuad(), cfg)
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "no head/encoder split") {
		t.Fatalf("error %v, want a UsageError about the missing split", err)
	}
}

// An interrupted run (context cancelled during step 7: the step finishes and a checkpoint is
// saved) and a crashed one (the task fails at step 13, after the checkpoint at 10) both
// resume to the weights of an uninterrupted run, and the metrics log reads as one run.
func TestResumeGivesTheUninterruptedWeights(t *testing.T) {
	base := quadConfig(t.TempDir())
	whole := newQuad()
	if err := Run(context.Background(), quadHeads{whole}, base); err != nil {
		t.Fatal(err)
	}
	want := whole.weights()

	dir := t.TempDir()
	cfg := quadConfig(dir)
	ctx, cancel := context.WithCancel(context.Background())
	q := newQuad()
	q.onBind = func(step int) {
		if step == 7 {
			cancel()
		}
	}
	err := Run(ctx, quadHeads{q}, cfg)
	var ie *InterruptedError
	if !errors.As(err, &ie) || ie.Step != 8 || ie.ExitCode() != 130 {
		t.Fatalf("interrupted run: %v, want an InterruptedError after step 8", err)
	}
	if _, step, _ := checkpoint.Latest(dir); step != 8 {
		t.Fatalf("latest checkpoint at step %d, want 8", step)
	}
	if ri, err := ReadRunInfo(dir); err != nil || ri.Steps != 8 || len(ri.Outputs) != 0 {
		t.Fatalf("run.json of the interrupted run: %+v, %v; want 8 steps and no outputs yet", ri, err)
	}

	cfg.Resume = true
	q = newQuad()
	q.onBind = func(step int) {
		if step == 13 {
			panic("crash") // a kill: nothing after the step-10 checkpoint is saved
		}
	}
	func() {
		defer func() { recover() }()
		Run(context.Background(), quadHeads{q}, cfg)
	}()
	if _, step, _ := checkpoint.Latest(dir); step != 10 {
		t.Fatalf("latest checkpoint at step %d, want 10", step)
	}

	q = newQuad()
	var log bytes.Buffer
	cfg.Log = &log
	if err := Run(context.Background(), quadHeads{q}, cfg); err != nil {
		t.Fatal(err)
	}
	if got := q.weights(); !slices.Equal(got, want) {
		t.Fatalf("resumed weights %v, uninterrupted %v", got, want)
	}
	if !strings.Contains(log.String(), "resumed from") {
		t.Fatalf("no resume message in:\n%s", log.String())
	}
	lg, err := runlog.ReadFile(filepath.Join(dir, runlog.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var steps []int
	for _, r := range lg.Train {
		steps = append(steps, r.Step)
	}
	if len(steps) != 20 || steps[0] != 0 || steps[19] != 19 {
		t.Fatalf("metrics after resume: steps %v, want 0…19 once each", steps)
	}
	if ri, _ := ReadRunInfo(dir); ri == nil || ri.Steps != 20 || !(ri.TimeS > 0) {
		t.Fatalf("run.json after resume: %+v", ri)
	}
}

func TestResumeRefusesOtherSettings(t *testing.T) {
	dir := t.TempDir()
	cfg := quadConfig(dir)
	cfg.Iters = 5
	if err := Run(context.Background(), newQuad(), cfg); err != nil {
		t.Fatal(err)
	}
	// Without --resume the folder is refused.
	err := Run(context.Background(), newQuad(), cfg)
	if err == nil || !strings.Contains(err.Error(), "already holds a run") {
		t.Fatalf("second run into the folder: %v", err)
	}
	cfg.Resume = true
	cases := []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Batch = 8 }, "batch: saved 4, now 8"},
		{func(c *Config) { c.Optim.WeightDecay = 0.1 }, "optimizer.weight_decay: saved 0, now 0.1"},
		{func(c *Config) { c.Optim.Momentum = 0.9 }, "optimizer.momentum: saved 0, now 0.9"},
		{func(c *Config) { c.Settings = map[string]string{"head": "psp"} }, "task.head: saved (absent), now \"psp\""},
		{func(c *Config) { c.Seed = 4 }, "seed: saved 3, now 4"},
	}
	for _, c := range cases {
		changed := cfg
		c.change(&changed)
		err := Run(context.Background(), newQuad(), changed)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("resume with %s: %v", c.want, err)
		}
	}
	// The run's length, validation and checkpoint cadence may change: extend the run.
	longer := cfg
	longer.Iters, longer.ValEvery, longer.CheckpointEvery, longer.Keep = 9, 3, 2, 1
	q := newQuad()
	if err := Run(context.Background(), q, longer); err != nil {
		t.Fatalf("extending the run: %v", err)
	}
	if _, step, _ := checkpoint.Latest(dir); step != 9 {
		t.Fatalf("extended run ends at step %d, want 9", step)
	}
	// Resuming an empty folder is an error that says so.
	empty := quadConfig(t.TempDir())
	empty.Resume = true
	if err := Run(context.Background(), newQuad(), empty); err == nil || !strings.Contains(err.Error(), "holds no run") {
		t.Fatalf("resume of an empty folder: %v", err)
	}
}

// A NaN loss (the test hook) and a NaN gradient with a finite loss both stop the run before
// the update, name the step, and leave the previous checkpoint as the latest, loadable.
func TestNonFiniteStopsBeforeTheUpdate(t *testing.T) {
	t.Run("loss", func(t *testing.T) {
		t.Setenv("SSL4DP_TEST_NAN_STEP", "12")
		dir := t.TempDir()
		err := Run(context.Background(), newQuad(), quadConfig(dir))
		var ne *NonFiniteError
		if !errors.As(err, &ne) || ne.Step != 12 || !math.IsNaN(ne.Loss) || ne.Param != "" {
			t.Fatalf("error %v, want a NonFiniteError at step 12", err)
		}
		for _, want := range []string{"step 12: the loss is NaN", "enc ", "head ", "step-00000010", "stopped before the update"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		}
		checkLatestLoads(t, dir, 10)
	})
	t.Run("gradient", func(t *testing.T) {
		dir := t.TempDir()
		q := newQuad()
		q.sqrt, q.poison = true, 7
		err := Run(context.Background(), q, quadConfig(dir))
		var ne *NonFiniteError
		if !errors.As(err, &ne) || ne.Step != 7 || ne.Param != "head.w" || math.IsNaN(ne.Loss) {
			t.Fatalf("error %v, want a NonFiniteError for the gradient of head.w (the first parameter) at step 7", err)
		}
		checkLatestLoads(t, dir, 5)
	})
}

func checkLatestLoads(t *testing.T, dir string, want int) {
	t.Helper()
	files, step, err := checkpoint.Load(dir, "w.bin", OptimFile, StateFile)
	if err != nil || step != want {
		t.Fatalf("latest checkpoint: step %d, %v; want step %d", step, err, want)
	}
	var st state
	if err := json.Unmarshal(files[StateFile], &st); err != nil || st.Step != want {
		t.Fatalf("state.json %s: %v", files[StateFile], err)
	}
	q := newQuad()
	if err := q.Build(4); err != nil {
		t.Fatal(err)
	}
	if err := q.Restore(files); err != nil {
		t.Fatalf("w.bin does not restore: %v", err)
	}
}

// A disk that fills up while a checkpoint is written: the run stops with the disk's error,
// the previous checkpoint stays the latest and the run resumes from it once there is room.
func TestCheckpointOnAFullDisk(t *testing.T) {
	dir := t.TempDir()
	cfg := quadConfig(dir)
	saves := 0
	saveCheckpoint = func(runDir string, step int, files map[string][]byte, keep int) (string, error) {
		if saves++; saves == 3 {
			return "", errors.New("checkpoint: saving step 15: write: no space left on device (the previous checkpoint is intact)")
		}
		return checkpoint.Save(runDir, step, files, keep)
	}
	defer func() { saveCheckpoint = checkpoint.Save }()
	err := Run(context.Background(), newQuad(), cfg)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("error %v, want the disk's", err)
	}
	checkLatestLoads(t, dir, 10)
	saveCheckpoint = checkpoint.Save
	cfg.Resume = true
	q := newQuad()
	if err := Run(context.Background(), q, cfg); err != nil {
		t.Fatal(err)
	}
	if got, want := q.weights(), reference(t, cfg, 1); !slices.Equal(got, want) {
		t.Fatalf("weights after the full disk and resume %v, want %v", got, want)
	}
}

// Validation runs every ValEvery steps and at the end (once when they coincide), is logged
// and ends up in run.json.
func TestValidationCadence(t *testing.T) {
	dir := t.TempDir()
	cfg := quadConfig(dir)
	cfg.ValEvery = 5
	q := newQuad()
	if err := Run(context.Background(), quadVal{q}, cfg); err != nil {
		t.Fatal(err)
	}
	lg, err := runlog.ReadFile(filepath.Join(dir, runlog.FileName))
	if err != nil {
		t.Fatal(err)
	}
	var steps []int
	for _, v := range lg.Val {
		steps = append(steps, v.Step)
	}
	if !slices.Equal(steps, []int{4, 9, 14, 19}) || q.valCalls != 4 {
		t.Fatalf("validations after steps %v (%d calls), want 4 9 14 19", steps, q.valCalls)
	}
	ri, _ := ReadRunInfo(dir)
	if ri == nil || ri.Metrics[KeyMIoU] != float64(q.weights()[0]) || lg.Val[3].Scores.MIoU != ri.Metrics[KeyMIoU] {
		t.Fatalf("run.json final metrics %+v, last validation %+v", ri, lg.Val[3].Scores)
	}
}

// The same on a real full disk: a 512 KiB tmpfs (when the test may mount one, as root) that
// a filler file fills during step 7, leaving room for the metrics but not for the step-10
// checkpoint.
func TestCheckpointOnAFullTmpfs(t *testing.T) {
	dir := t.TempDir()
	if err := exec.Command("mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", dir).Run(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v); TestCheckpointOnAFullDisk covers the engine's side", err)
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	run := filepath.Join(dir, "run")
	cfg := quadConfig(run)
	filler := filepath.Join(dir, "filler")
	q := newQuad()
	q.onBind = func(step int) {
		if step != 7 {
			return
		}
		var fs syscall.Statfs_t
		if err := syscall.Statfs(dir, &fs); err != nil {
			t.Error(err)
			return
		}
		free := int64(fs.Bavail) * fs.Bsize
		if err := os.WriteFile(filler, make([]byte, free-8192), 0o644); err != nil {
			t.Error(err)
		}
	}
	err := Run(context.Background(), q, cfg)
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "previous checkpoint is intact") {
		t.Fatalf("error %v, want the checkpoint's ENOSPC", err)
	}
	t.Log(err)
	checkLatestLoads(t, run, 5)
	os.Remove(filler)
	cfg.Resume = true
	q = newQuad()
	if err := Run(context.Background(), q, cfg); err != nil {
		t.Fatal(err)
	}
	if got, want := q.weights(), reference(t, cfg, 1); !slices.Equal(got, want) {
		t.Fatalf("weights after the full disk and resume %v, want %v", got, want)
	}
}

// The advice after a non-finite loss ("lower --lr, or add --max-grad-norm, and --resume")
// works: a resume may change the LR schedule and the clipping. The change is printed,
// recorded at the resumed step in the checkpoints' state and run.json (and kept by later
// resumes), and the new schedule gives the LR from that step on.
func TestResumeMayChangeLRAndClipping(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SSL4DP_TEST_NAN_STEP", "12")
	var ne *NonFiniteError
	if err := Run(context.Background(), newQuad(), quadConfig(dir)); !errors.As(err, &ne) || !strings.Contains(err.Error(), "--resume") {
		t.Fatalf("error %v, want a NonFiniteError that advises --resume", err)
	}
	t.Setenv("SSL4DP_TEST_NAN_STEP", "")
	cfg := quadConfig(dir)
	cfg.Resume = true
	cfg.LR.LR, cfg.LR.Schedule, cfg.Optim.MaxGradNorm = 0.05, "cosine", 1
	var log bytes.Buffer
	cfg.Log = &log
	if err := Run(context.Background(), newQuad(), cfg); err != nil {
		t.Fatalf("resume with a lower --lr, --schedule cosine and --max-grad-norm: %v", err)
	}
	want := `changed at step 10: optimizer.max_grad_norm 0 → 1; schedule.base_lr 0.1 → 0.05; schedule.kind "poly" → "cosine"; schedule.power 0.9 → null (from this step on; recorded in run.json)`
	if !strings.Contains(log.String(), want) {
		t.Errorf("the resume's log does not say\n%s\nit says\n%s", want, log.String())
	}
	lg, err := runlog.ReadFile(filepath.Join(dir, runlog.FileName))
	if err != nil {
		t.Fatal(err)
	}
	cosine := schedule.Schedule{Kind: schedule.Cosine, BaseLR: 0.05, Total: 20}
	for _, r := range lg.Train {
		if r.Step >= 10 && math.Abs(r.LR-cosine.LR(r.Step)) > 1e-15 {
			t.Errorf("step %d: lr %v, want the new cosine's %v", r.Step, r.LR, cosine.LR(r.Step))
		}
	}
	// A second resume that extends the run and lowers the LR again adds its change; a third
	// that changes nothing adds none.
	cfg.Iters, cfg.LR.LR, cfg.Log = 25, 0.02, io.Discard
	if err := Run(context.Background(), newQuad(), cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Iters = 30
	if err := Run(context.Background(), newQuad(), cfg); err != nil {
		t.Fatal(err)
	}
	ri, err := ReadRunInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range ri.Changes {
		got = append(got, fmt.Sprintf("%d %s", c.Step, c))
	}
	wantChanges := []string{"10 optimizer.max_grad_norm 0 → 1", "10 schedule.base_lr 0.1 → 0.05", `10 schedule.kind "poly" → "cosine"`,
		"10 schedule.power 0.9 → null", "20 schedule.base_lr 0.05 → 0.02"}
	if strings.Join(got, "\n") != strings.Join(wantChanges, "\n") {
		t.Errorf("run.json setting_changes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantChanges, "\n"))
	}
	// Everything else stays refused.
	cfg.Optim.Momentum = 0.5
	if err := Run(context.Background(), newQuad(), cfg); err == nil || !strings.Contains(err.Error(), "optimizer.momentum") {
		t.Errorf("resume with another momentum: %v, want it refused", err)
	}
}
