package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"image"
	pngenc "image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/train/checkpoint"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// A small run: 1/16-width ResNet-18 + FCN on 32-pixel synthetic scenes, 60 steps of a few
// milliseconds each, a checkpoint every 5 steps, validation every 20.
var segArgs = []string{"train", "seg", "--encoder", "resnet18", "--width", "0.0625", "--data", "synthetic:size=32,n=64,val=8",
	"--crop", "32", "--batch", "4", "--iters", "60", "--checkpoint-every", "5", "--val-every", "20", "--val-batch", "8", "--lr", "0.05"}

const segIters = 60

func segRun(out string, extra ...string) []string {
	return append(append(append([]string{}, segArgs...), "--out", out), extra...)
}

// TestTrainCLIChild is not a test: the tests below re-execute the test binary with
// SSL4DP_TRAIN_CHILD set to a JSON argument list, and this runs the CLI with it, so that
// they can kill it or send it signals.
func TestTrainCLIChild(t *testing.T) {
	raw := os.Getenv("SSL4DP_TRAIN_CHILD")
	if raw == "" {
		t.Skip("runs only as the CLI child of the train tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		panic(err)
	}
	os.Exit(run(args))
}

// child is the CLI running in a re-executed test binary.
type child struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan struct{} // closed when it has exited; err is then set
	err  error
}

func startChild(t *testing.T, args []string) *child {
	t.Helper()
	js, _ := json.Marshal(args)
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^TestTrainCLIChild$"), done: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), "SSL4DP_TRAIN_CHILD="+string(js))
	c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		c.err = c.cmd.Wait()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		<-c.done
	})
	return c
}

// waitCheckpoint waits until dir has a checkpoint at step ≥ min, and fails if the child
// exits first (the run would then be too short to interrupt).
func waitCheckpoint(t *testing.T, c *child, dir string, min int) int {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		if _, step, err := checkpoint.Latest(dir); err == nil && step >= min {
			return step
		}
		select {
		case <-c.done:
			t.Fatalf("the child ended (%v) before a checkpoint at step %d:\n%s", c.err, min, &c.out)
		case <-deadline:
			t.Fatalf("no checkpoint at step %d after 2 minutes:\n%s", min, &c.out)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

var (
	refOnce  sync.Once
	refModel *pb.ModelProto
	refErr   string
)

// reference is the model of an uninterrupted run of segArgs.
func reference(t *testing.T) *pb.ModelProto {
	t.Helper()
	refOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ssl4dp-train-ref-")
		if err != nil {
			refErr = err.Error()
			return
		}
		defer os.RemoveAll(dir)
		if code, _, errOut := runCLI(t, segRun(dir)...); code != 0 {
			refErr = errOut
			return
		}
		refModel, err = onnx.ReadFile(filepath.Join(dir, "model.onnx"))
		if err != nil {
			refErr = err.Error()
		}
	})
	if refModel == nil {
		t.Fatalf("uninterrupted reference run failed: %s", refErr)
	}
	return refModel
}

// sameWeights compares every float initializer of the run's model.onnx (parameters and
// BatchNorm statistics) with the reference, bit for bit.
func sameWeights(t *testing.T, dir string) {
	t.Helper()
	got, err := onnx.ReadFile(filepath.Join(dir, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	want := onnx.Initializers(reference(t).Graph)
	n := 0
	for _, g := range got.Graph.Initializer {
		if pb.TensorProto_DataType(g.GetDataType()) != pb.TensorProto_FLOAT {
			continue
		}
		gv, _ := onnx.Floats(g)
		wv, err := onnx.Floats(want[g.GetName()])
		if err != nil || len(gv) != len(wv) {
			t.Fatalf("%s: %v", g.GetName(), err)
		}
		for i := range gv {
			if math.Float32bits(gv[i]) != math.Float32bits(wv[i]) {
				t.Fatalf("%s[%d] is %v, the uninterrupted run's %v", g.GetName(), i, gv[i], wv[i])
			}
		}
		n++
	}
	if n < 50 {
		t.Fatalf("compared only %d initializers", n)
	}
	lg, err := runlog.ReadFile(filepath.Join(dir, runlog.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if len(lg.Train) != segIters || lg.Train[segIters-1].Step != segIters-1 || len(lg.Val) != 3 {
		t.Fatalf("metrics.jsonl: %d train records (last step %d), %d validations; want %d and 3",
			len(lg.Train), lg.Train[len(lg.Train)-1].Step, len(lg.Val), segIters)
	}
}

// SIGKILL mid-run, then --resume with the run folder alone: the final weights are those of
// an uninterrupted run with the same seed.
func TestTrainSegKillResume(t *testing.T) {
	reference(t)
	dir := filepath.Join(t.TempDir(), "run")
	c := startChild(t, segRun(dir))
	step := waitCheckpoint(t, c, dir, 10)
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-c.done
	t.Logf("killed after the checkpoint at step %d", step)
	code, _, errOut := runCLI(t, "train", "seg", "--resume", "--out", dir)
	if code != 0 {
		t.Fatalf("--resume: exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "resumed from") {
		t.Errorf("no resume message in:\n%s", errOut)
	}
	sameWeights(t, dir)
}

// SIGINT: the step in progress finishes, a checkpoint is saved, the exit code is 130 and
// the message says how to continue; --resume then ends where an uninterrupted run does.
func TestTrainSegSIGINT(t *testing.T) {
	reference(t)
	dir := filepath.Join(t.TempDir(), "run")
	c := startChild(t, segRun(dir))
	waitCheckpoint(t, c, dir, 5)
	if err := c.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	<-c.done
	out := &c.out
	var ee *exec.ExitError
	if !errors.As(c.err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("exit %v after SIGINT, want code 130:\n%s", c.err, out)
	}
	if !strings.Contains(out.String(), "interrupted after step") || !strings.Contains(out.String(), "--resume") {
		t.Fatalf("message:\n%s", out)
	}
	_, step, err := checkpoint.Latest(dir)
	if err != nil || step >= segIters {
		t.Fatalf("latest checkpoint after SIGINT: step %d, %v", step, err)
	}
	if !strings.Contains(out.String(), "interrupted after step "+strconv.Itoa(step)+";") {
		t.Fatalf("the message does not name the checkpoint's step %d:\n%s", step, out)
	}
	if code, _, errOut := runCLI(t, "train", "seg", "--resume", "--out", dir); code != 0 {
		t.Fatalf("--resume: exit %d: %s", code, errOut)
	}
	sameWeights(t, dir)
}

// A NaN loss (test hook) stops the run with a message and exit code 1; the previous
// checkpoint is intact and loadable, and resuming from it reaches the uninterrupted weights.
func TestTrainSegNaN(t *testing.T) {
	reference(t)
	dir := filepath.Join(t.TempDir(), "run")
	t.Setenv("SSL4DP_TEST_NAN_STEP", "12")
	code, _, errOut := runCLI(t, segRun(dir)...)
	if code != 1 || !strings.Contains(errOut, "step 12: the loss is NaN") || !strings.Contains(errOut, "step-00000010") {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	files, step, err := checkpoint.Load(dir, "model.onnx", "optim.bin", "state.json")
	if err != nil || step != 10 {
		t.Fatalf("latest checkpoint: step %d, %v", step, err)
	}
	if _, err := onnx.Decode(files["model.onnx"], "model.onnx"); err != nil {
		t.Fatal(err)
	}
	os.Unsetenv("SSL4DP_TEST_NAN_STEP")
	if code, _, errOut := runCLI(t, "train", "seg", "--resume", "--out", dir); code != 0 {
		t.Fatalf("--resume: exit %d: %s", code, errOut)
	}
	sameWeights(t, dir)
}

// Bad requests are exit code 2 with one line that names the problem.
func TestTrainSegUsageErrors(t *testing.T) {
	photos := t.TempDir()
	var png bytes.Buffer
	if err := pngenc.Encode(&png, image.NewRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(photos, "a.png"), png.Bytes(), 0o644)
	dir := filepath.Join(t.TempDir(), "run")
	short := append(segRun(dir), "--iters", "2", "--val-every", "0")
	if code, _, errOut := runCLI(t, short...); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{short, "already holds a run (config.json); pass --resume"},
		{[]string{"train", "seg", "--resume", "--out", dir, "--batch", "8"}, "batch: saved 4, now 8"},
		{[]string{"train", "seg", "--resume", "--out", dir, "--head", "psp"}, `task.head: saved "fcn", now "psp"`},
		{[]string{"train", "seg", "--resume", "--out", filepath.Join(t.TempDir(), "none")}, "--resume"},
		{[]string{"train", "seg", "--out", filepath.Join(t.TempDir(), "x")}, "--data is required"},
		{[]string{"train", "seg", "--data", "synthetic", "--head", "unet", "--out", filepath.Join(t.TempDir(), "y")}, "--head"},
		{[]string{"train", "seg", "--data", "folder:" + photos, "--out", filepath.Join(t.TempDir(), "z")}, "has no labels"},
	} {
		code, _, errOut := runCLI(t, c.args...)
		if code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args[2:], code, errOut, c.want)
		}
	}
	code, out, _ := runCLI(t, "train", "seg", "--help")
	if code != 0 || !strings.Contains(out, "MMSegmentation's PASCAL VOC recipe") || !strings.Contains(out, "--encoder-lr-mult") {
		t.Errorf("train seg --help: exit %d:\n%s", code, out)
	}
}
