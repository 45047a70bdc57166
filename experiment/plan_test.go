package experiment

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func mustPlan(t *testing.T, src string, o PlanOptions) *Plan {
	t.Helper()
	g, err := Parse([]byte(src), "g.toml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := g.Plan(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// "MoCo + PLR" and "MoCo + EDMoCo" both continue the MoCo v2 row: per seed, the MoCo v2
// stage is planned once and both continuations start from it.
func TestPlanSharesStagePrefixes(t *testing.T) {
	p := mustPlan(t, base, PlanOptions{})
	var methods []string
	for _, s := range p.Stages {
		methods = append(methods, s.Method)
	}
	if got := strings.Join(methods, " "); got != "moco plr edmoco moco plr edmoco" {
		t.Fatalf("stages %q, want one moco, plr and edmoco per seed", got)
	}
	// 4 rows that run (Supervised has no checkpoint) × 2 heads × 2 seeds.
	if len(p.Cells) != 16 {
		t.Fatalf("%d cells, want 16", len(p.Cells))
	}
	if len(p.Skipped) != 1 || p.Skipped[0].Row != "Supervised" || !strings.Contains(p.Skipped[0].Reason, "--init 'Supervised=FILE.onnx'") {
		t.Errorf("skipped %+v", p.Skipped)
	}
	moco := p.Stages[0]
	if strings.Join(moco.Rows, ";") != "MoCo v2;MoCo + PLR;MoCo + EDMoCo" || moco.Parent != nil || moco.Seed != 1 {
		t.Errorf("moco stage %+v", moco)
	}
	for _, s := range p.Stages[1:3] {
		if s.Parent != moco {
			t.Errorf("%s continues %v, want the seed's moco stage", s.Dir, s.Parent)
		}
	}
	if p.Stages[3].Parent != nil || p.Stages[4].Parent != p.Stages[3] || p.Stages[3].Key == moco.Key {
		t.Error("seed 2's chain is not its own")
	}
	seen := map[string]bool{}
	for _, c := range p.Cells {
		if seen[c.Dir] {
			t.Errorf("two cells in %s", c.Dir)
		}
		seen[c.Dir] = true
		switch c.Row {
		case "RandomInit":
			if len(c.Stages) != 0 || c.Init != "" {
				t.Errorf("random-init cell %+v", c)
			}
		case "MoCo + EDMoCo":
			if len(c.Stages) != 2 || c.Stages[0].Method != "moco" || c.Stages[1].Method != "edmoco" || c.Transfer != TransferDecoder {
				t.Errorf("EDMoCo cell %+v", c)
			}
			if got := c.Stages[1].Output(c.Transfer); !strings.HasSuffix(got, "decoder.onnx") {
				t.Errorf("EDMoCo cells load %s, want decoder.onnx", got)
			}
		}
		if c.Seed == 1 && !strings.Contains(strings.Join(c.Args, " "), "--seed=1") {
			t.Errorf("cell args %v lack the seed", c.Args)
		}
	}
	if c := p.Cells[0]; c.Dir != filepath.Join("cells", "randominit", "mocofcn", "s1-"+c.Key) {
		t.Errorf("cell folder %s", c.Dir)
	}
	if s := p.Stages[1]; !strings.HasPrefix(s.Dir, filepath.Join("stages", "plr-s1-")) ||
		strings.Join(s.Args, " ") != "--batch=8 --data=synthetic:size=32,n=16,val=4,classes=3 --encoder=resnet18 --iters=2 --lr=0.02 --method=plr --scale=cpu --seed=1 --size=32 --width=0.125" {
		t.Errorf("plr stage %s args %v", s.Dir, s.Args)
	}
}

// A folder key changes with anything that changes the weights, so an edited grid never
// reuses a stale run; the same grid always gives the same keys.
func TestPlanKeys(t *testing.T) {
	a := mustPlan(t, base, PlanOptions{})
	b := mustPlan(t, base, PlanOptions{})
	for i := range a.Cells {
		if a.Cells[i].Key != b.Cells[i].Key {
			t.Fatal("the same grid gave different keys")
		}
	}
	// A longer MoCo stage changes it, every stage after it and every cell that uses them,
	// and nothing else.
	c := mustPlan(t, strings.Replace(base, `stages = [{ method = "moco" }]`, `stages = [{ method = "moco", iters = 3 }]`, 1), PlanOptions{})
	for i, s := range a.Stages {
		if s.Key == c.Stages[i].Key {
			t.Errorf("stage %s kept its key after its chain changed", s.Dir)
		}
	}
	for i, cell := range a.Cells {
		changed := cell.Key != c.Cells[i].Key
		if changed != (cell.Row != "RandomInit") {
			t.Errorf("cell %s × %s: key changed %v", cell.Row, cell.Head, changed)
		}
	}
	// A fine-tuning flag changes the cells only.
	d := mustPlan(t, strings.Replace(base, "batch = 4\n", "batch = 2\n", 1), PlanOptions{})
	for i := range a.Stages {
		if a.Stages[i].Key != d.Stages[i].Key {
			t.Error("a fine-tuning flag changed a stage key")
		}
	}
	for i := range a.Cells {
		if a.Cells[i].Key == d.Cells[i].Key {
			t.Error("a fine-tuning flag left a cell key unchanged")
		}
	}
}

func TestPlanInitAndVariables(t *testing.T) {
	dir := t.TempDir()
	ckpt := filepath.Join(dir, "sup.onnx")
	if err := os.WriteFile(ckpt, []byte("weights 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATA": "synthetic:size=32,n=16,val=4,classes=3", "CKPT": ckpt}
	getenv := func(k string) string { return env[k] }
	src := strings.Replace(base, `data = "synthetic:size=32,n=16,val=4,classes=3"`, `data = "${DATA}"`, 1)
	src = strings.Replace(src, `init = ""`, `init = "$CKPT"`, 1)
	p := mustPlan(t, src, PlanOptions{Getenv: getenv})
	if len(p.Skipped) != 0 {
		t.Fatalf("skipped %+v with a checkpoint given", p.Skipped)
	}
	var sup *Cell
	for _, c := range p.Cells {
		if c.Row == "Supervised" {
			sup = c
			break
		}
		if !strings.Contains(strings.Join(c.Args, " "), "--data=synthetic:size=32") {
			t.Errorf("data not expanded: %v", c.Args)
		}
	}
	if sup == nil || sup.Init != ckpt || len(sup.Stages) != 0 || sup.Origin() != ckpt {
		t.Fatalf("supervised cell %+v", sup)
	}
	// Other weights in the checkpoint file: another key.
	if err := os.WriteFile(ckpt, []byte("weights 2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if q := mustPlan(t, src, PlanOptions{Getenv: getenv}); q.Cells[len(q.Cells)-1].Key == p.Cells[len(p.Cells)-1].Key {
		t.Error("a changed checkpoint kept its cells' keys")
	}
	// --init ROW=FILE overrides the grid's init.
	other := filepath.Join(dir, "other.onnx")
	if err := os.WriteFile(other, []byte("weights 3"), 0o644); err != nil {
		t.Fatal(err)
	}
	q := mustPlan(t, src, PlanOptions{Getenv: getenv, Inits: map[string]string{"Supervised": other}})
	if c := q.Cells[len(q.Cells)-1]; c.Row != "Supervised" || c.Init != other {
		t.Errorf("--init override: %+v", c)
	}

	g, err := Parse([]byte(src), "g.toml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		o    PlanOptions
		want string
	}{
		{PlanOptions{Getenv: func(string) string { return "" }}, "$DATA is not set"},
		{PlanOptions{Getenv: getenv, Inits: map[string]string{"Supervisd": other}}, `no row is called "Supervisd"`},
		{PlanOptions{Getenv: getenv, Inits: map[string]string{"Supervised": filepath.Join(dir, "missing.onnx")}}, "missing.onnx"},
	} {
		_, err := g.Plan(tc.o)
		var ge *GridError
		if err == nil || !errors.As(err, &ge) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Plan: error %v, want a *GridError with %q", err, tc.want)
		}
	}
}

func TestSlug(t *testing.T) {
	for in, want := range map[string]string{"MoCo + PLMoCo": "moco-plmoco", "DeepLabv3+": "deeplabv3", "Non-Local": "non-local", "+++": "x", "Été": "t"} {
		if got := slug(in); got != want {
			t.Errorf("slug(%q) = %q, want %q", in, got, want)
		}
	}
}
