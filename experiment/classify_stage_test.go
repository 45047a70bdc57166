package experiment

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
)

const supervisedGrid = `
title = "supervised"
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
iters = 2
val-every = 0

[evaluate]
overlays = 0

[[head]]
name = "MoCoFCN"
head = "fcn"

[[row]]
name = "Supervised"
init = ""
stages = [{ method = "classify", lr = 0.05 }]

[[row]]
name = "Supervised + CP2"
from = "Supervised"
stages = [{ method = "cp2", queue = 64 }]
`

// A Supervised row whose stages start with classify trains its own encoder when no
// checkpoint is given (train classify's flags: [pretrain]'s that it has, no --method or
// --scale), and a row continuing it chains on that stage; given --init Supervised=FILE, the
// checkpoint stands for the classify stage, which is dropped.
func TestPlanSupervisedRowRunsClassify(t *testing.T) {
	p := mustPlan(t, supervisedGrid, PlanOptions{})
	if len(p.Skipped) != 0 || len(p.Stages) != 2 {
		t.Fatalf("skipped %+v, %d stages; want none skipped and classify + cp2", p.Skipped, len(p.Stages))
	}
	cls, cp2 := p.Stages[0], p.Stages[1]
	if cls.Method != ClassifyMethod || cp2.Method != "cp2" || cp2.Parent != cls {
		t.Fatalf("stages %s, %s (parent %v)", cls.Method, cp2.Method, cp2.Parent)
	}
	want := []string{"--batch=8", "--checkpoint-every=2", "--data=synthetic:size=32,n=32,val=8,classes=3,objects=2", "--encoder=resnet18",
		"--iters=3", "--lr=0.05", "--seed=3", "--size=32", "--width=0.125"}
	if !slices.Equal(cls.Args, want) {
		t.Errorf("classify args %v, want %v", cls.Args, want)
	}
	if !slices.Contains(cp2.Args, "--method=cp2") || !slices.Contains(cp2.Args, "--scale=cpu") {
		t.Errorf("cp2 args %v", cp2.Args)
	}
	ckpt := filepath.Join(t.TempDir(), "sup.onnx")
	if err := os.WriteFile(ckpt, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	p = mustPlan(t, supervisedGrid, PlanOptions{Inits: map[string]string{"Supervised": ckpt}})
	if len(p.Stages) != 1 || p.Stages[0].Method != "cp2" || p.Stages[0].Init != ckpt {
		t.Fatalf("with a checkpoint: stages %+v, want only cp2 starting from it", p.Stages)
	}
	for _, c := range p.Cells {
		if c.Row == "Supervised" && (len(c.Stages) != 0 || c.Init != ckpt) {
			t.Errorf("Supervised cell %+v, want the checkpoint and no stage", c)
		}
	}
}

// A classify stage's flags are checked as train classify's: a pretext setting is refused.
func TestClassifyStageRefusesPretextFlags(t *testing.T) {
	src := strings.Replace(supervisedGrid, `{ method = "classify", lr = 0.05 }`, `{ method = "classify", temperature = 0.2 }`, 1)
	if _, err := Parse([]byte(src), "g.toml"); err == nil || !strings.Contains(err.Error(), "temperature") {
		t.Fatalf("err %v, want one about --temperature", err)
	}
}

// The grid runs: train classify writes the encoder that CP2 continues and fine-tuning loads.
func TestSupervisedGridRuns(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	p := mustPlan(t, supervisedGrid, PlanOptions{})
	out := t.TempDir()
	log := &cancelOn{}
	res, err := Run(context.Background(), p, Options{Out: out, Log: log, OrtLib: lib})
	if err != nil {
		t.Fatalf("Run: %v\n%s", err, log.buf.String())
	}
	for _, st := range p.Stages {
		if res.Done[st.Dir] != Ran {
			t.Errorf("%s: %s", st.Dir, res.Done[st.Dir])
		}
	}
	if !strings.Contains(log.buf.String(), "ssl4dp train classify --encoder resnet18") {
		t.Errorf("the classify stage did not run train classify:\n%s", log.buf.String())
	}
}
