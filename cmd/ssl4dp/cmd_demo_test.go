package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/experiment"
	"github.com/ssl4dp/ssl4dp/export/modelinfo"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
)

// `ssl4dp demo --quick` end to end: the table in the seed's format, the files it lists, and
// every mIoU in it equal to what `ssl4dp evaluate` reports for the exported model.
func TestDemoQuick(t *testing.T) {
	t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", testenv.ORTLibrary(t))
	out := filepath.Join(t.TempDir(), "demo")
	code, stdoutText, errText := runCLI(t, "demo", "--quick", "--out", out)
	if code != 0 {
		t.Fatalf("demo --quick: exit %d\n%s\n%s", code, errText, stdoutText)
	}
	// Progress: which stage, and the engine's progress lines.
	// Each stage and cell starts from the previous one's encoder, every tensor loaded.
	moco := regexp.MustCompile(`init from \S+/stages/moco-s1-[0-9a-f]{10}/encoder\.onnx: 100 loaded`)
	plmoco := regexp.MustCompile(`init from \S+/stages/plmoco-s1-[0-9a-f]{10}/encoder\.onnx: 100 loaded`)
	if n := len(moco.FindAllString(errText, -1)); n != 2 || !plmoco.MatchString(errText) {
		t.Errorf("MoCo's encoder loaded %d times (want 2: the PLMoCo stage and the MoCo v2 cell), PLMoCo's %v", n, plmoco.MatchString(errText))
	}
	for _, want := range []string{"== [1/11] fine-tune MoCoFCN from RandomInit", "== [2/11] linear probe of RandomInit", "== [4/11] pre-train moco", "== [8/11] pre-train plmoco",
		"step 6/6 100%", "== bench: onnxruntime inference"} {
		if !strings.Contains(errText, want) {
			t.Errorf("progress lacks %q", want)
		}
	}
	for _, want := range []string{
		"| pre-training     | epochs     | head    | mIoU | linear | retrieval | note",
		"| RandomInit       | —          | MoCoFCN |",
		"| MoCo v2          | 0.75       | MoCoFCN |",
		"| MoCo v2 + PLMoCo | 0.75 + 0.5 | MoCoFCN |",
		"inference (onnxruntime", "batch 1: p50",
		"demo/results.md, " + out + "/results.png  the table",
		"pre-training curves:",
	} {
		if !strings.Contains(stdoutText, want) {
			t.Errorf("report lacks %q:\n%s", want, stdoutText)
		}
	}
	rowRE := regexp.MustCompile(`(?m)^\| (RandomInit|MoCo v2|MoCo v2 \+ PLMoCo) +\| [^|]+\| MoCoFCN \| ([0-9.]+) +\| ([0-9.]+) +\| ([0-9.]+) +\|`)
	rows := rowRE.FindAllStringSubmatch(stdoutText, -1)
	if len(rows) != 3 {
		t.Fatalf("%d table rows with a number, want 3:\n%s", len(rows), stdoutText)
	}
	modelRE := regexp.MustCompile(`(?m)^    (\S+/model\.onnx)  exported model`)
	models := modelRE.FindAllStringSubmatch(stdoutText, -1)
	if len(models) != 3 {
		t.Fatalf("%d model paths in the report, want 3", len(models))
	}
	const data = "synthetic:classes=3,objects=2,size=32,n=64,val=16" // quick.toml's
	for i, m := range models {
		model := m[1]
		cell := filepath.Dir(model)
		for _, f := range []string{"curves.png", "eval.json", experiment.DoneFile, filepath.Join("overlays")} {
			if _, err := os.Stat(filepath.Join(cell, f)); err != nil {
				t.Error(err)
			}
		}
		code, js, errText := runCLI(t, "evaluate", "--model", model, "--data", data, "--json")
		if code != 0 {
			t.Fatalf("evaluate %s: exit %d: %s", model, code, errText)
		}
		var r struct {
			Scores metrics.Scores `json:"scores"`
		}
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatal(err)
		}
		shown, _ := strconv.ParseFloat(rows[i][2], 64)
		if math.Abs(100*r.Scores.MIoU-shown) > 0.05+1e-9 {
			t.Errorf("%s: the table shows %v, evaluate says %.4f%%", rows[i][1], shown, 100*r.Scores.MIoU)
		}
		// The model is this cell's: its metadata names the cell's training run.
		em, err := onnx.ReadFile(model)
		if err != nil {
			t.Fatal(err)
		}
		if info, err := modelinfo.Read(em); err != nil || info.Source != filepath.Join(cell, "train") || info.Method != "seg" {
			t.Errorf("%s: metadata %+v, %v; want the source %s", model, info, err, filepath.Join(cell, "train"))
		}
		var rec experiment.Record
		b, err := os.ReadFile(filepath.Join(cell, experiment.DoneFile))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Scores == nil || rec.Scores.MIoU != r.Scores.MIoU {
			t.Errorf("%s: done.json mIoU %v, evaluate %v", rows[i][1], rec.Scores, r.Scores.MIoU)
		}
	}
	// The probe columns are `ssl4dp evaluate linear|retrieval` of the row's encoder: for
	// RandomInit, graphs' encoder at the seed, written into its probe folder.
	for col, protocol := range map[int]string{3: "linear", 4: "retrieval"} {
		encs, _ := filepath.Glob(filepath.Join(out, "probes", "randominit", protocol, "s1-*", "encoder.onnx"))
		if len(encs) != 1 {
			t.Fatalf("RandomInit's %s encoder: %v", protocol, encs)
		}
		code, js, errText := runCLI(t, "evaluate", protocol, "--encoder", encs[0], "--data", data, "--seed", "1", "--json")
		if code != 0 {
			t.Fatalf("evaluate %s: exit %d: %s", protocol, code, errText)
		}
		var r struct {
			Scores metrics.Scores `json:"scores"`
		}
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			t.Fatal(err)
		}
		if shown, _ := strconv.ParseFloat(rows[0][col], 64); math.Abs(100*r.Scores.MIoU-shown) > 0.05+1e-9 {
			t.Errorf("RandomInit's %s column shows %v, evaluate %s says %.4f%%", protocol, shown, protocol, 100*r.Scores.MIoU)
		}
	}
	for _, f := range []string{"results.md", "results.png", "bench.json", "plan.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}

	// Running it again reuses every finished stage and cell.
	code, again, errText := runCLI(t, "demo", "--quick", "--out", out)
	if code != 0 {
		t.Fatalf("second demo --quick: exit %d\n%s", code, errText)
	}
	if n := strings.Count(errText, "finished earlier"); n != 11 || strings.Contains(errText, "step 1/") {
		t.Errorf("the second run reused %d of 11 stages, cells and probes:\n%s", n, errText)
	}
	if !strings.Contains(again, rows[2][0]) {
		t.Errorf("the second run's table differs:\n%s", again)
	}
}

func TestDemoPrintGrid(t *testing.T) {
	for _, args := range [][]string{{"demo", "--print-grid"}, {"demo", "--print-grid", "--quick"}} {
		code, out, errText := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errText)
		}
		g, err := experiment.Parse([]byte(out), "printed")
		if err != nil {
			t.Fatalf("%v: the printed grid does not parse: %v", args, err)
		}
		if len(g.Rows) != 3 || g.Rows[2].Name != "MoCo v2 + PLMoCo" || g.Heads[0].Flags["head"] != "fcn" {
			t.Errorf("%v: rows %+v", args, g.Rows)
		}
	}
}
