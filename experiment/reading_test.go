package experiment

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// The paired 95% interval against hand-computed values: differences {0.010, 0.012, 0.011}
// have mean 0.011 and sample std 0.001, so se = 0.001/√3 = 5.7735e-4 and, with t₀.₉₇₅(2) =
// 4.303, the interval is 0.011 ± 2.4843e-3 = [0.0085157, 0.0134843]. A row's against rows
// are compared too, and a row is never compared with itself.
func TestPairedIntervalAndAgainst(t *testing.T) {
	cell := func(v ...float64) TableCell {
		c := TableCell{Head: "h", MIoU: v}
		c.Mean, c.Std = meanStd(v)
		for _, x := range v {
			if !math.IsNaN(x) {
				c.N++
			}
		}
		return c
	}
	tab := &Table{Heads: []string{"h"}, Rows: []TableRow{
		{Name: "RandomInit", Cells: []TableCell{cell(0.46, 0.48, 0.44)}},
		{Name: "Control", Cells: []TableCell{cell(0.45, 0.50, 0.40)}},
		{Name: "Dense", Against: []string{"Control", "Dense"}, Cells: []TableCell{cell(0.470, 0.492, 0.451)}},
	}}
	var got []string
	var dense Comparison
	for _, c := range tab.Comparisons() {
		got = append(got, c.Row+" vs "+c.Base)
		if c.Row == "Dense" && c.Base == "RandomInit" {
			dense = c
		}
	}
	if strings.Join(got, ", ") != "Control vs RandomInit, Dense vs RandomInit, Dense vs Control" {
		t.Errorf("comparisons %v", got)
	}
	if !dense.PairedTested || !dense.PairedBeyond || math.Abs(dense.PairedLo-0.0085157) > 1e-6 || math.Abs(dense.PairedHi-0.0134843) > 1e-6 {
		t.Errorf("interval [%v, %v] (tested %v, beyond %v); want [0.0085157, 0.0134843], beyond", dense.PairedLo, dense.PairedHi, dense.PairedTested, dense.PairedBeyond)
	}
	if s := ciText(dense); s != "+1.1 [+0.9, +1.3]" {
		t.Errorf("ciText %q", s)
	}
	// Differences {−0.01, +0.01}: mean 0 (t 0), sd 0.01414, se 0.01, t₀.₉₇₅(1) = 12.706:
	// [−0.12706, +0.12706], not beyond.
	z := &Table{Heads: []string{"h"}, Rows: []TableRow{
		{Name: "A", Cells: []TableCell{cell(0.5, 0.5)}},
		{Name: "B", Cells: []TableCell{cell(0.49, 0.51)}},
	}}
	c := z.Comparisons()[0]
	if !c.PairedTested || c.PairedBeyond || math.Abs(c.PairedLo+0.12706) > 1e-9 || math.Abs(c.PairedHi-0.12706) > 1e-9 {
		t.Errorf("zero-mean interval [%v, %v] (beyond %v); want ±0.12706, not beyond", c.PairedLo, c.PairedHi, c.PairedBeyond)
	}
	// No spread in the differences: untested, no interval.
	u := &Table{Heads: []string{"h"}, Rows: []TableRow{
		{Name: "A", Cells: []TableCell{cell(0.5, 0.6)}},
		{Name: "B", Cells: []TableCell{cell(0.6, 0.7)}},
	}}
	if c := u.Comparisons()[0]; c.PairedTested || !math.IsNaN(c.PairedLo) {
		t.Errorf("identical differences: tested %v, lo %v", c.PairedTested, c.PairedLo)
	}
}

// An against that names no row is a grid error naming the row.
func TestAgainstNamesARow(t *testing.T) {
	src := strings.Replace(base, `stages = [{ method = "plr", lr = 0.02 }]`, `stages = [{ method = "plr", lr = 0.02 }]
against = ["MoCo + Nothing"]`, 1)
	if _, err := Parse([]byte(src), "g.toml"); err == nil || !strings.Contains(err.Error(), `row "MoCo + PLR": against "MoCo + Nothing" names no other row`) {
		t.Errorf("error %v", err)
	}
	src = strings.Replace(base, `stages = [{ method = "plr", lr = 0.02 }]`, `stages = [{ method = "plr", lr = 0.02 }]
against = ["MoCo v2"]`, 1)
	g, err := Parse([]byte(src), "g.toml")
	if err != nil {
		t.Fatal(err)
	}
	if a := g.Row("MoCo + PLR").Against; len(a) != 1 || a[0] != "MoCo v2" {
		t.Errorf("against %v", a)
	}
}

// writeCurve writes a stage's metrics.jsonl: steps records whose loss is lossAt(i) and
// whose top1 is i/steps (absent at step 0).
func writeCurve(t *testing.T, dir string, steps int, lossAt func(i int) float64) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	w, err := runlog.Open(filepath.Join(dir, runlog.FileName))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < steps; i++ {
		r := runlog.TrainRecord{Step: i + 1, Loss: lossAt(i)}
		if i > 0 {
			r.Monitors = map[string]float64{"top1": float64(i) / float64(steps)}
		}
		if err := w.Train(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// Per-class IoUs average over the seeds where a class is defined; the monitors read each
// row's own stages' curves (a continuation's, not MoCo v2's), the first and last tenth of
// the steps, averaged over seeds; results.md shows both and the time per protocol.
func TestClassesMonitorsAndProtocolTime(t *testing.T) {
	p := mustPlan(t, base, PlanOptions{})
	out := t.TempDir()
	fakeRecords(t, p, out, func(c *Cell) (float64, bool) { return 0.4, true })
	// Per-class IoU: seed 1 {0.8, 0.2, NaN}, seed 2 {0.6, 0.4, 0.3}; the cells' eval.json
	// names the classes.
	for _, c := range p.Cells {
		iou := []float64{0.8, 0.2, math.NaN()}
		if c.Seed == 2 {
			iou = []float64{0.6, 0.4, 0.3}
		}
		dir := filepath.Join(out, c.Dir)
		if err := writeRecord(dir, &Record{Kind: "cell", Key: c.Key, Row: c.Row, Head: c.Head, Seed: c.Seed, TotalS: 30,
			Scores: &metrics.Scores{MIoU: 0.4, IoU: iou}}); err != nil {
			t.Fatal(err)
		}
		if err := writeJSON(filepath.Join(dir, "eval.json"), &EvalReport{Classes: []string{"background", "disc", "square"}}); err != nil {
			t.Fatal(err)
		}
	}
	// Curves: 20 steps (window 2). MoCo's loss 10 − i/10: first (10 + 9.9)/2 = 9.95, last
	// (8.1 + 8.2)/2 = 8.15; top1 first: step 0 has none, so 1/20 = 0.05; last (18 + 19)/40 =
	// 0.925. PLR's loss is 1.4 at seed 1 and 1.2 at seed 2 throughout: 1.3 → 1.3.
	for _, st := range p.Stages {
		switch st.Method {
		case "moco":
			writeCurve(t, filepath.Join(out, st.Dir), 20, func(i int) float64 { return 10 - float64(i)/10 })
		case "plr":
			v := 1.4
			if st.Seed == 2 {
				v = 1.2
			}
			writeCurve(t, filepath.Join(out, st.Dir), 20, func(int) float64 { return v })
		}
	}
	tab, err := Collect(p, out)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(tab.Classes, ",") != "background,disc,square" {
		t.Errorf("classes %v", tab.Classes)
	}
	c := tab.Rows[0].Cells[0]
	if len(c.ClassIoU) != 3 || math.Abs(c.ClassIoU[0]-0.7) > 1e-12 || math.Abs(c.ClassIoU[1]-0.3) > 1e-12 || math.Abs(c.ClassIoU[2]-0.3) > 1e-12 {
		t.Errorf("class IoU %v, want [0.7 0.3 0.3]", c.ClassIoU)
	}
	var moco, plr TableRow
	for _, r := range tab.Rows {
		switch r.Name {
		case "MoCo v2":
			moco = r
		case "MoCo + PLR":
			plr = r
		}
	}
	if len(moco.Monitors) != 1 || moco.Monitors[0].Method != "moco" || moco.Monitors[0].Seeds != 2 || moco.Monitors[0].Steps != 20 {
		t.Fatalf("MoCo v2 monitors %+v", moco.Monitors)
	}
	want := []MonitorSeries{{"loss", 9.95, 8.15}, {"top1", 0.05, 0.925}}
	for i, s := range moco.Monitors[0].Series {
		if i >= len(want) || s.Name != want[i].Name || math.Abs(s.First-want[i].First) > 1e-12 || math.Abs(s.Last-want[i].Last) > 1e-12 {
			t.Errorf("MoCo v2 series %d: %+v, want %+v", i, s, want)
		}
	}
	if len(plr.Monitors) != 1 || plr.Monitors[0].Method != "plr" || math.Abs(plr.Monitors[0].Series[0].First-1.3) > 1e-12 || math.Abs(plr.Monitors[0].Series[0].Last-1.3) > 1e-12 {
		t.Errorf("PLR monitors (its own stage only) %+v", plr.Monitors)
	}
	md := tab.Markdown()
	for _, w := range []string{
		"## Per-class IoU",
		"| pre-training | head | background | disc | square |",
		"| RandomInit | MoCoFCN | 70.0 | 30.0 | 30.0 |",
		"## Pretext monitors",
		"| MoCo v2 | moco | 20 | 2 | loss 9.95 → 8.15; top1 0.05 → 0.925 |",
		"| MoCo + PLR | plr | 20 | 2 | loss 1.3 → 1.3; top1 0.05 → 0.925 |",
		"## Time per protocol",
		// fakeRecords: every stage 100 s (MoCo, PLR and EDMoCo at 2 seeds), every cell 30 s,
		// four rows × 2 seeds per head.
		"| pre-training stages | 6 | 1m40s | 10m00s |",
		"| MoCoFCN | 8 | 30.0s | 4m00s |",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("results.md lacks %q:\n%s", w, md)
		}
	}
}

// [evaluate] linear-epochs and retrieval-bank change only their own protocol's probe keys
// (a shrunk probe is another run; without them the keys are those grids always had), and
// negative values are refused.
func TestProbeSizeKeys(t *testing.T) {
	keys := func(extra string) map[string]string {
		p := mustPlan(t, strings.Replace(tinyProbes, "overlays = 2", "overlays = 2\n"+extra, 1), PlanOptions{})
		k := map[string]string{}
		for _, pr := range p.Probes {
			if pr.Seed == p.Grid.Seeds[0] && pr.Row == p.Grid.Rows[0].Name {
				k[pr.Protocol] = pr.Key
			}
		}
		return k
	}
	def, lin, bank := keys(""), keys("linear-epochs = 5"), keys("retrieval-bank = 1000")
	if def[ProtocolLinear] == "" || def[ProtocolRetrieval] == "" {
		t.Fatalf("keys %v", def)
	}
	if lin[ProtocolLinear] == def[ProtocolLinear] || lin[ProtocolRetrieval] != def[ProtocolRetrieval] {
		t.Errorf("linear-epochs: keys %v, default %v", lin, def)
	}
	if bank[ProtocolRetrieval] == def[ProtocolRetrieval] || bank[ProtocolLinear] != def[ProtocolLinear] {
		t.Errorf("retrieval-bank: keys %v, default %v", bank, def)
	}
	g, err := Parse([]byte(strings.Replace(tinyProbes, "overlays = 2", "overlays = 2\nlinear-epochs = 5\nretrieval-bank = 1000", 1)), "g.toml")
	if err != nil {
		t.Fatal(err)
	}
	if g.Eval.LinearEpochs != 5 || g.Eval.RetrievalBank != 1000 {
		t.Errorf("eval %+v", g.Eval)
	}
	if _, err := Parse([]byte(strings.Replace(tinyProbes, "overlays = 2", "overlays = 2\nretrieval-bank = -1", 1)), "g.toml"); err == nil || !strings.Contains(err.Error(), "want ≥ 0") {
		t.Errorf("negative bank: %v", err)
	}
}
