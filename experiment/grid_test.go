package experiment

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
)

// base is a valid grid; the error cases below append to it or replace parts of it.
const base = `
title = "t"
data = "synthetic:size=32,n=16,val=4,classes=3"
seeds = [1, 2]

[pretrain]
encoder = "resnet18"
width = 0.125
size = 32
batch = 8
iters = 2
scale = "cpu"

[finetune]
encoder = "resnet18"
width = 0.125
crop = 32
batch = 4
iters = 2

[[head]]
name = "MoCoFCN"
head = "fcn"

[[head]]
name = "PSPNet"
head = "psp"

[[row]]
name = "RandomInit"

[[row]]
name = "MoCo v2"
stages = [{ method = "moco" }]

[[row]]
name = "MoCo + PLR"
from = "MoCo v2"
stages = [{ method = "plr", lr = 0.02 }]

[[row]]
name = "MoCo + EDMoCo"
from = "MoCo v2"
stages = [{ method = "edmoco" }]
transfer = "decoder"

[[row]]
name = "Supervised"
init = ""
note = "ImageNet labels"
`

func TestParseReadsTheGrid(t *testing.T) {
	g, err := Parse([]byte(base), "base.toml")
	if err != nil {
		t.Fatal(err)
	}
	if g.Title != "t" || len(g.Seeds) != 2 || g.Seeds[1] != 2 || len(g.Heads) != 2 || len(g.Rows) != 5 {
		t.Fatalf("grid %+v", g)
	}
	if g.Pretrain["width"] != "0.125" || g.Pretrain["iters"] != "2" || g.Finetune["crop"] != "32" {
		t.Errorf("flag text: pretrain %v finetune %v", g.Pretrain, g.Finetune)
	}
	plr := g.Row("MoCo + PLR")
	if plr.From != "MoCo v2" || len(plr.Stages) != 1 || plr.Stages[0].Method != "plr" || plr.Stages[0].Flags["lr"] != "0.02" || plr.Transfer != TransferEncoder {
		t.Errorf("row %+v", plr)
	}
	if r := g.Row("Supervised"); r.Init == nil || *r.Init != "" || r.Note != "ImageNet labels" {
		t.Errorf("supervised row %+v", r)
	}
	if g.Eval.Batch != 8 || g.Eval.Overlays != 4 {
		t.Errorf("evaluation defaults %+v", g.Eval)
	}
}

func TestParseErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(base, old) {
			t.Fatalf("the base grid has no %q", old)
		}
		return strings.Replace(base, old, new, 1)
	}
	for _, tc := range []struct {
		name, src, want string
	}{
		{"syntax", base + "\n[[row]\n", "line"},
		{"unknown top key", "colour = 1\n" + base, "unknown key colour"},
		{"unknown row key", replace(`name = "RandomInit"`, "name = \"RandomInit\"\nstage = []"), "unknown key row.stage"},
		{"no data", replace(`data = "synthetic:size=32,n=16,val=4,classes=3"`, ""), "no data"},
		{"no seeds", replace("seeds = [1, 2]", ""), "no seeds"},
		{"seed twice", replace("seeds = [1, 2]", "seeds = [1, 1]"), "seed 1 is listed twice"},
		{"negative seed", replace("seeds = [1, 2]", "seeds = [-1]"), "seed -1"},
		{"misspelt pretrain flag", replace("width = 0.125\nsize", "widht = 0.125\nsize"), "[pretrain]: unknown flag --widht"},
		{"misspelt stage flag", replace(`{ method = "plr", lr = 0.02 }`, `{ method = "plr", lrr = 0.02 }`), `row "MoCo + PLR" stage 1 (plr): unknown flag --lrr`},
		{"bad enum in a head", replace(`head = "psp"`, `head = "pspnet"`), `row "RandomInit", head "PSPNet"`},
		{"bad method", replace(`{ method = "plr", lr = 0.02 }`, `{ method = "plrr" }`), `method "plrr"; want one of moco`},
		{"reserved in finetune", replace("iters = 2\n\n[[head]]", "iters = 2\nseed = 3\n\n[[head]]"), `[finetune]: "seed" is set by the experiment`},
		{"reserved in a stage", replace(`{ method = "moco" }`, `{ method = "moco", init = "x.onnx" }`), `"init" is set by the experiment`},
		{"data in finetune", replace("iters = 2\n\n[[head]]", "iters = 2\ndata = \"synthetic\"\n\n[[head]]"), `"data" is set by the experiment`},
		{"dashes", replace("width = 0.125\nsize", "--width = 0.125\nsize"), ""},
		{"bad value type", replace("iters = 2\n\n[[head]]", "iters = 2\nlr = { a = 1 }\n\n[[head]]"), "unknown key finetune.lr.a (a flag's value is a string"},
		{"stage without method", replace(`{ method = "moco" }`, `{ epochs = 2 }`), "stage 1 has no method"},
		{"head without name", replace(`name = "PSPNet"`, ""), "head 2 has no name"},
		{"head twice", replace(`name = "PSPNet"`, `name = "MoCoFCN"`), `head "MoCoFCN" is defined twice`},
		{"row twice", replace(`name = "Supervised"`, `name = "MoCo v2"`), `row "MoCo v2" is defined twice`},
		{"from nowhere", replace(`from = "MoCo v2"`, `from = "MoCo v3"`), `from "MoCo v3" names no row`},
		{"cycle", replace(`name = "MoCo v2"`, "name = \"MoCo v2\"\nfrom = \"MoCo + PLR\""), "a cycle"},
		{"init after stages", replace(`stages = [{ method = "plr", lr = 0.02 }]`, "stages = [{ method = \"plr\" }]\ninit = \"x.onnx\""), "init comes after the stages"},
		{"bad transfer", replace(`transfer = "decoder"`, `transfer = "head"`), `transfer "head"`},
		{"decoder without a decoder stage", replace(`stages = [{ method = "moco" }]`, "stages = [{ method = \"moco\" }]\ntransfer = \"decoder\""), `row "MoCo v2": transfer = "decoder" needs`},
		{"no heads", strings.ReplaceAll(strings.ReplaceAll(base, "[[head]]\nname = \"MoCoFCN\"\nhead = \"fcn\"", ""), "[[head]]\nname = \"PSPNet\"\nhead = \"psp\"", ""), "no [[head]]"},
		{"bad evaluate", base + "\n[evaluate]\nbatch = -1\n", "[evaluate] batch -1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src), "g.toml")
			if err == nil {
				t.Fatal("no error")
			}
			var ge *GridError
			if !errors.As(err, &ge) || ge.ExitCode() != 2 {
				t.Errorf("error %T, want *GridError (exit code 2): %v", err, err)
			}
			if !strings.HasPrefix(err.Error(), "experiment: g.toml: ") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q, want it to start with the file and contain %q", err, tc.want)
			}
		})
	}
}

func TestFlagText(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"fcn", "fcn"}, {int64(-3), "-3"}, {0.25, "0.25"}, {1e-4, "0.0001"}, {true, "true"},
		{[]any{0.7, 0.9}, "0.7,0.9"}, {[]any{int64(1), int64(8)}, "1,8"},
	} {
		got, err := flagText(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("flagText(%v) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := flagText([]any{[]any{1.0}}); err == nil {
		t.Error("a nested list was accepted")
	}
	args := argsFor(Flags{"b": "1", "a": "x"}, Flags{"b": "2"})
	if strings.Join(args, " ") != "--a=x --b=2" {
		t.Errorf("argsFor: %v, want later sets to win, sorted", args)
	}
}

// The grids shipped in experiments/ parse and plan (with their variables set).
func TestShippedGrids(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(t), "experiments")
	files, err := filepath.Glob(filepath.Join(dir, "*.toml"))
	if err != nil || len(files) < 3 {
		t.Fatalf("grids in %s: %v %v", dir, files, err)
	}
	env := map[string]string{"VOC": "/data/VOC2012", "IMAGENET": "/data/imagenet", "CUTPASTE": "cutpaste:objects=/o,backgrounds=/b",
		"BENCH2": "cutpaste:objects=/o,backgrounds=/b,n=400", "BENCH2_POOL": "cutpaste:objects=/o,backgrounds=/b,n=8000,seed=2"}
	for k, v := range env { // Load checks the flags with the data expanded from the environment
		t.Setenv(k, v)
	}
	for _, f := range files {
		g, err := Load(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		p, err := g.Plan(PlanOptions{Getenv: func(k string) string { return env[k] }})
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		t.Logf("%s: %d stages, %d cells, skipped %v", filepath.Base(f), len(p.Stages), len(p.Cells), p.Skipped)
	}
}
