package experiment

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/train"
)

// tiny is a grid that runs in seconds: three rows, one head, one seed.
const tiny = `
title = "tiny"
data = "synthetic:size=32,n=32,val=8,classes=3,objects=2"
seeds = [3]

[pretrain]
encoder = "resnet18"
width = 0.125
size = 32
batch = 8
iters = 3
scale = "cpu"
checkpoint-every = 2

[finetune]
encoder = "resnet18"
width = 0.125
crop = 32
batch = 4
iters = 4
lr = 0.05
val-every = 0
checkpoint-every = 2

[evaluate]
overlays = 2

[[head]]
name = "MoCoFCN"
head = "fcn"

[[row]]
name = "RandomInit"

[[row]]
name = "MoCo v2"
stages = [{ method = "moco" }]

[[row]]
name = "MoCo + PLMoCo"
from = "MoCo v2"
stages = [{ method = "plmoco" }]
`

// cancelOn is a log that cancels the run when a line it waits for is written.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	match  string
	cancel context.CancelFunc
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	if c.match != "" && strings.Contains(c.buf.String(), c.match) {
		c.cancel()
	}
	return len(p), nil
}

func mtime(t *testing.T, path string) time.Time {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.ModTime()
}

// An experiment interrupted in the middle of a cell continues there when run again: finished
// stages and cells are not run again (their records are untouched), the interrupted cell
// resumes from its checkpoint, and the rest runs.
func TestInterruptedExperimentResumes(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	p := mustPlan(t, tiny, PlanOptions{})
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := &cancelOn{match: "fine-tune MoCoFCN from MoCo v2,", cancel: cancel}
	res, err := Run(ctx, p, Options{Out: out, Log: log, OrtLib: lib})
	var ie *train.InterruptedError
	if !errors.As(err, &ie) {
		t.Fatalf("Run: %v, want *train.InterruptedError\n%s", err, log.buf.String())
	}
	random, moco, mocoCell, plmoco, last := p.Cells[0], p.Stages[0], p.Cells[1], p.Stages[1], p.Cells[2]
	if res.Done[random.Dir] != Ran || res.Done[moco.Dir] != Ran || len(res.Done) != 2 {
		t.Fatalf("first run did %v", res.Done)
	}
	if ie.Step != 1 || !strings.HasPrefix(ie.Dir, filepath.Join(out, mocoCell.Dir)) {
		t.Errorf("interrupted at step %d in %s, want step 1 of %s", ie.Step, ie.Dir, mocoCell.Dir)
	}
	if _, err := os.Stat(filepath.Join(out, mocoCell.Dir, DoneFile)); err == nil {
		t.Fatal("the interrupted cell has a completion record")
	}
	states, err := States(p, out)
	if err != nil {
		t.Fatal(err)
	}
	if states[random.Dir] != "done" || states[moco.Dir] != "done" || states[mocoCell.Dir] != "partial" || states[plmoco.Dir] != "to do" {
		t.Errorf("states %v", states)
	}
	doneRandom := mtime(t, filepath.Join(out, random.Dir, DoneFile))
	doneMoco := mtime(t, filepath.Join(out, moco.Dir, DoneFile))
	metricsRandom := mtime(t, filepath.Join(out, random.Dir, "train", "metrics.jsonl"))

	log2 := &cancelOn{}
	res, err = Run(context.Background(), p, Options{Out: out, Log: log2, OrtLib: lib})
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, log2.buf.String())
	}
	want := map[string]Status{random.Dir: Reused, moco.Dir: Reused, mocoCell.Dir: Resumed, plmoco.Dir: Ran, last.Dir: Ran}
	for dir, st := range want {
		if res.Done[dir] != st {
			t.Errorf("%s: %s, want %s", dir, res.Done[dir], st)
		}
	}
	if !mtime(t, filepath.Join(out, random.Dir, DoneFile)).Equal(doneRandom) || !mtime(t, filepath.Join(out, moco.Dir, DoneFile)).Equal(doneMoco) ||
		!mtime(t, filepath.Join(out, random.Dir, "train", "metrics.jsonl")).Equal(metricsRandom) {
		t.Error("a finished folder was written again")
	}
	if s := log2.buf.String(); !strings.Contains(s, "resumed from") || !strings.Contains(s, "step 1 of 4") {
		t.Errorf("the interrupted cell did not resume from its checkpoint:\n%s", s)
	}

	// Every cell: its exported model's onnxruntime mIoU is the training run's own final
	// validation (Gorgonia), and the table shows it.
	for i, c := range p.Cells {
		rec, err := readRecord(filepath.Join(out, c.Dir))
		if err != nil || rec == nil {
			t.Fatalf("%s: record %v, %v", c.Dir, rec, err)
		}
		var ev EvalReport
		b, err := os.ReadFile(filepath.Join(out, c.Dir, "eval.json"))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Images != 8 || ev.Scores.MIoU != rec.Scores.MIoU || len(ev.Overlays) != 2 || rec.Steps != 4 {
			t.Errorf("%s: eval %+v, record %+v", c.Dir, ev, rec)
		}
		if rec.TrainMIoU == nil || math.Abs(*rec.TrainMIoU-rec.Scores.MIoU) > 1e-4 {
			t.Errorf("%s: onnxruntime mIoU %v, training validation %v", c.Dir, rec.Scores.MIoU, rec.TrainMIoU)
		}
		if got := res.Table.Rows[i].Cells[0].MIoU[0]; got != rec.Scores.MIoU {
			t.Errorf("%s: table %v, record %v", c.Dir, got, rec.Scores.MIoU)
		}
		for _, f := range []string{"model.onnx", "curves.png", filepath.Join("overlays", filepath.Base(ev.Overlays[0]))} {
			if _, err := os.Stat(filepath.Join(out, c.Dir, f)); err != nil {
				t.Error(err)
			}
		}
	}
	md, err := os.ReadFile(res.Results)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "| MoCo + PLMoCo | 0.75 + 0.75 | MoCoFCN | ") || strings.Contains(string(md), "Incomplete") {
		t.Errorf("results.md:\n%s", md)
	}
	f, err := os.Open(res.Chart)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := png.Decode(f); err != nil {
		t.Errorf("results.png: %v", err)
	}

	// A third run finds everything finished and trains nothing.
	res, err = Run(context.Background(), p, Options{Out: out, Log: &cancelOn{}, OrtLib: lib})
	if err != nil {
		t.Fatal(err)
	}
	for dir, st := range res.Done {
		if st != Reused {
			t.Errorf("third run: %s %s", dir, st)
		}
	}
}
