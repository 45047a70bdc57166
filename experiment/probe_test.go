package experiment

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ssl4dp/ssl4dp/evaluate/features"
	"github.com/ssl4dp/ssl4dp/evaluate/linear"
	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/evaluate/retrieval"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/onnx"
)

var tinyProbes = strings.Replace(tiny, "overlays = 2", "overlays = 2\nprobes = [\"linear\", \"retrieval\"]", 1)

func TestPlanProbes(t *testing.T) {
	p := mustPlan(t, tinyProbes, PlanOptions{})
	if len(p.Probes) != 6 {
		t.Fatalf("%d probes, want 3 rows × 2 protocols", len(p.Probes))
	}
	random, moco, plmoco := p.Probes[0], p.Probes[2], p.Probes[4]
	if random.Row != "RandomInit" || random.Protocol != ProtocolLinear || len(random.Stages) != 0 ||
		random.Net != (ProbeNet{Encoder: "resnet18", Width: 0.125, OutputStride: 16}) {
		t.Errorf("RandomInit's probe: %+v", random)
	}
	if moco.Row != "MoCo v2" || len(moco.Stages) != 1 || plmoco.Row != "MoCo + PLMoCo" || len(plmoco.Stages) != 2 || moco.Net != (ProbeNet{}) {
		t.Errorf("stage rows' probes: %+v, %+v", moco, plmoco)
	}
	if !strings.HasPrefix(random.Dir, filepath.Join("probes", "randominit", "linear", "s3-")) {
		t.Errorf("folder %s", random.Dir)
	}
	// A probe runs after its row's cells, once the chain's last stage is done.
	js := p.jobs()
	var order []string
	for _, j := range js {
		switch {
		case j.stage != nil:
			order = append(order, "stage "+j.stage.Method)
		case j.cell != nil:
			order = append(order, "cell "+j.cell.Row)
		default:
			order = append(order, "probe "+j.probe.Row+" "+j.probe.Protocol)
			if n := len(j.probe.Stages); n > 0 && (len(j.deps) != 1 || j.deps[0].stage != j.probe.Stages[n-1]) {
				t.Errorf("%s depends on %v", j.probe.Dir, j.deps)
			}
		}
	}
	want := "cell RandomInit, probe RandomInit linear, probe RandomInit retrieval, stage moco, cell MoCo v2, probe MoCo v2 linear, " +
		"probe MoCo v2 retrieval, stage plmoco, cell MoCo + PLMoCo, probe MoCo + PLMoCo linear, probe MoCo + PLMoCo retrieval"
	if got := strings.Join(order, ", "); got != want {
		t.Errorf("jobs:\n got %s\nwant %s", got, want)
	}
	// A probe's folder key changes with what it scores, not with the heads.
	other := mustPlan(t, strings.Replace(tinyProbes, `head = "fcn"`, `head = "psp"`, 1), PlanOptions{})
	if other.Probes[0].Dir != random.Dir || other.Cells[0].Dir == p.Cells[0].Dir {
		t.Error("changing the head moved the probes' folders (or not the cells')")
	}
	for _, bad := range []string{`probes = ["knn"]`, `probes = ["linear", "linear"]`} {
		src := strings.Replace(tiny, "overlays = 2", "overlays = 2\n"+bad, 1)
		if _, err := Parse([]byte(src), "bad.toml"); err == nil || !strings.Contains(err.Error(), "probes") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestRunProbes runs the grid with stand-in protocols: each probe gets its row's encoder (the
// chain's encoder.onnx, or graphs' encoder at the seed for RandomInit), and its score is a
// column of results.md.
func TestRunProbes(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	var mu sync.Mutex
	seen := map[string]string{} // row → encoder file
	fake := func(score float64) ProbeFunc {
		return func(_ context.Context, in ProbeInput) (*ProbeReport, error) {
			enc := in.Encoder
			b, err := os.ReadFile(enc)
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(b)
			mu.Lock()
			seen[string(sum[:4])] = enc
			mu.Unlock()
			return &ProbeReport{Encoder: enc, Data: in.Data, Scores: metrics.Scores{MIoU: score + float64(sum[0])/1e4}}, nil
		}
	}
	saved := probeFuncs
	probeFuncs = map[string]ProbeFunc{ProtocolLinear: fake(0.5), ProtocolRetrieval: fake(0.25)}
	defer func() { probeFuncs = saved }()

	p := mustPlan(t, tinyProbes, PlanOptions{})
	out := t.TempDir()
	res, err := Run(context.Background(), p, Options{Out: out, Log: io.Discard, OrtLib: lib, Jobs: 2})
	if err != nil {
		t.Fatal(err)
	}
	want, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, Width: 0.125, OutputStride: 16, Seed: 3,
		Outputs: []string{graphs.Features, graphs.LowLevel}})
	if err != nil {
		t.Fatal(err)
	}
	wantBytes, _ := onnx.Encode(want)
	got, err := os.ReadFile(filepath.Join(out, p.Probes[0].Dir, "encoder.onnx"))
	if err != nil || !bytes.Equal(got, wantBytes) {
		t.Errorf("RandomInit's probe encoder is not graphs' encoder at seed 3 (%v)", err)
	}
	var stageEnc bool
	for _, enc := range seen {
		if enc == filepath.Join(out, p.Stages[0].Dir, "encoder.onnx") {
			stageEnc = true
		}
	}
	if !stageEnc || len(seen) != 3 {
		t.Errorf("probes scored %v; want three encoders, MoCo's stage output among them", seen)
	}
	if got := strings.Join(res.Table.Heads, ", "); got != "MoCoFCN, linear probe, retrieval" {
		t.Errorf("table columns %s", got)
	}
	for _, r := range res.Table.Rows {
		lin, ret := r.Cells[1], r.Cells[2]
		if lin.N != 1 || ret.N != 1 || lin.Mean < 0.5 || lin.Mean >= 0.6 || ret.Mean < 0.25 || ret.Mean >= 0.35 {
			t.Errorf("%s: linear %+v retrieval %+v", r.Name, lin, ret)
		}
	}
	md, _ := os.ReadFile(res.Results)
	if !strings.Contains(string(md), "| RandomInit | — | linear probe | ") || !strings.Contains(string(md), "score each row's encoder frozen") {
		t.Errorf("results.md:\n%s", md)
	}
	states, err := States(p, out)
	if err != nil || states[p.Probes[5].Dir] != "done" {
		t.Errorf("states %v %v", states, err)
	}
}

// TestRunProbesReal runs the grid's probes with the real protocols: each row's score is what
// `ssl4dp evaluate linear|retrieval` gives for the same encoder and seed, and both protocols
// of an encoder share one features cache.
func TestRunProbesReal(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	src := strings.Replace(tinyProbes, "[[row]]\nname = \"MoCo + PLMoCo\"\nfrom = \"MoCo v2\"\nstages = [{ method = \"plmoco\" }]\n", "", 1)
	p := mustPlan(t, src, PlanOptions{})
	if len(p.Probes) != 4 {
		t.Fatalf("%d probes", len(p.Probes))
	}
	out := t.TempDir()
	res, err := Run(context.Background(), p, Options{Out: out, Log: io.Discard, OrtLib: lib})
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range p.Probes {
		enc := filepath.Join(out, pr.Dir, "encoder.onnx")
		if len(pr.Stages) > 0 {
			enc = filepath.Join(out, pr.Stages[0].Dir, "encoder.onnx")
		}
		fo := features.Options{Encoder: enc, Data: pr.Data, OrtLib: lib}
		var want metrics.Scores
		if pr.Protocol == ProtocolLinear {
			r, err := linear.Evaluate(context.Background(), linear.Options{Features: fo, TrainOptions: linear.TrainOptions{Seed: pr.Seed}})
			if err != nil {
				t.Fatal(err)
			}
			want = r.Scores
		} else {
			r, err := retrieval.Evaluate(context.Background(), retrieval.Options{Features: fo, Seed: pr.Seed})
			if err != nil {
				t.Fatal(err)
			}
			want = r.Scores
		}
		rec, err := readRecord(filepath.Join(out, pr.Dir))
		if err != nil || rec == nil || rec.Scores.MIoU != want.MIoU {
			t.Errorf("%s: grid mIoU %v (%v), evaluate's %v", pr.Dir, rec, err, want.MIoU)
		}
	}
	cached, _ := filepath.Glob(filepath.Join(out, probeCache, "*"))
	if len(cached) != 4 { // two encoders × two splits
		t.Errorf("features cache holds %d files, want 4: %v", len(cached), cached)
	}
	if got := res.Table.Rows[0].Cells[1].N; got != 1 {
		t.Errorf("RandomInit's linear probe: %d seeds in the table", got)
	}
}
