package experiment

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
)

// fakeRecords writes completion records for a plan's stages and for the cells miou says
// (by row, head and seed), as if they had run.
func fakeRecords(t *testing.T, p *Plan, out string, miou func(c *Cell) (float64, bool)) {
	t.Helper()
	for _, s := range p.Stages {
		dir := filepath.Join(out, s.Dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		epochs := 20.0
		if s.Method != "moco" {
			epochs = 9.96
		}
		if err := writeRecord(dir, &Record{Kind: "stage", Key: s.Key, Method: s.Method, Seed: s.Seed, Epochs: epochs, TrainS: 100}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range p.Cells {
		v, ok := miou(c)
		if !ok {
			continue
		}
		dir := filepath.Join(out, c.Dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := writeRecord(dir, &Record{Kind: "cell", Key: c.Key, Row: c.Row, Head: c.Head, Seed: c.Seed, TotalS: 30,
			Scores: &metrics.Scores{MIoU: v}}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCollectAndRender(t *testing.T) {
	p := mustPlan(t, base, PlanOptions{})
	out := t.TempDir()
	// Seed 1: 0.40 everywhere but MoCo + PLR (0.50); seed 2: +0.02, and MoCo + EDMoCo ×
	// PSPNet unfinished.
	fakeRecords(t, p, out, func(c *Cell) (float64, bool) {
		v := 0.40
		if c.Row == "MoCo + PLR" {
			v = 0.50
		}
		if c.Seed == 2 {
			if c.Row == "MoCo + EDMoCo" && c.Head == "PSPNet" {
				return 0, false
			}
			v += 0.02
		}
		return v, true
	})
	tab, err := Collect(p, out)
	if err != nil {
		t.Fatal(err)
	}
	if tab.Pending != 1 || len(tab.Rows) != 4 || len(tab.Skipped) != 1 {
		t.Fatalf("pending %d, %d rows, skipped %v", tab.Pending, len(tab.Rows), tab.Skipped)
	}
	plr := tab.Rows[2]
	if plr.Name != "MoCo + PLR" || plr.Epochs != "20 + 10" || plr.PretrainS != 200 {
		t.Errorf("row %s: epochs %q, pre-training %v s", plr.Name, plr.Epochs, plr.PretrainS)
	}
	c := plr.Cells[0]
	wantStd := math.Sqrt(2 * 0.01 * 0.01) // two values 0.02 apart: sample std 0.01·√2
	if c.N != 2 || math.Abs(c.Mean-0.51) > 1e-12 || math.Abs(c.Std-wantStd) > 1e-12 || c.TrainS != 30 {
		t.Errorf("MoCo + PLR × MoCoFCN: n %d mean %v std %v time %v", c.N, c.Mean, c.Std, c.TrainS)
	}
	if got := c.Summary(); got != "51.0 ± 1.4 (2)" {
		t.Errorf("summary %q", got)
	}
	ed := tab.Rows[3].Cells[1]
	if ed.N != 1 || !math.IsNaN(ed.Std) || !math.IsNaN(ed.MIoU[1]) || ed.Summary() != "40.0 (1)" {
		t.Errorf("MoCo + EDMoCo × PSPNet: %+v %q", ed, ed.Summary())
	}
	if tab.Rows[0].Epochs != "—" || tab.Rows[0].PretrainS != 0 {
		t.Errorf("random init row: epochs %q, time %v", tab.Rows[0].Epochs, tab.Rows[0].PretrainS)
	}

	md := tab.Markdown()
	for _, want := range []string{
		"# t\n",
		"| pre-training | epochs | head | mIoU | note |",
		"| MoCo + PLR | 20 + 10 | MoCoFCN | 51.0 ± 1.4 (2) |  |",
		"| MoCo + EDMoCo | 20 + 10 | PSPNet | 40.0 (1) |  |",
		"| Supervised | — | — | — | skipped: no checkpoint given",
		"| pre-training | head | seed 1 | seed 2 |",
		"| MoCo + EDMoCo | PSPNet | 40.0 | — |",
		"| MoCo + PLR | 3m20s | MoCoFCN | 30.0s |",
		"**Incomplete:** 1 planned cells",
		"moco stage shared by MoCo v2, MoCo + PLR, MoCo + EDMoCo",
		// 0.50/0.52 against 0.40/0.42: Δ 0.10, each std 0.01·√2, t = 0.1/0.01414 = 7.07 on 2 df.
		// Paired: both seeds differ by exactly 0.10, no spread to test against.
		"| MoCo + PLR | RandomInit | MoCoFCN | +10.0 | 7.07 (2.0) | — | Welch **yes**, paired — |",
		"| MoCo + PLR | MoCo v2 | MoCoFCN | +10.0 | 7.07 (2.0) | — | Welch **yes**, paired — |",
		"| MoCo v2 | RandomInit | PSPNet | +0.0 | 0.00 (2.0) | — | Welch no, paired — |",
		"| MoCo + EDMoCo | RandomInit | PSPNet | -1.0 | — | — | — (too few seeds) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}

	chart := filepath.Join(out, ChartFile)
	if err := tab.SaveChart(chart); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(chart)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 480 || b.Dy() < 300 {
		t.Errorf("chart %v", b)
	}
}

// A done.json that belongs to another run (a copied folder) is an error, not a reuse.
func TestRecordOfAnotherRun(t *testing.T) {
	dir := t.TempDir()
	if err := writeRecord(dir, &Record{Kind: "cell", Key: "aaaa"}); err != nil {
		t.Fatal(err)
	}
	if _, err := finished(dir, "bbbb"); err == nil || !strings.Contains(err.Error(), "is the record of run aaaa, not bbbb") {
		t.Errorf("error %v", err)
	}
	if r, err := finished(t.TempDir(), "x"); r != nil || err != nil {
		t.Errorf("an empty folder: %v, %v", r, err)
	}
}

func TestMeanStd(t *testing.T) {
	m, s := meanStd([]float64{0.2, 0.4, math.NaN(), 0.6})
	if math.Abs(m-0.4) > 1e-12 || math.Abs(s-0.2) > 1e-12 {
		t.Errorf("mean %v std %v, want 0.4 and 0.2", m, s)
	}
	if m, s := meanStd([]float64{math.NaN()}); !math.IsNaN(m) || !math.IsNaN(s) {
		t.Errorf("no values: %v %v", m, s)
	}
	for in, want := range map[float64]string{20: "20", 19.97: "20", 9.5: "9.5", 0.75: "0.75"} {
		if got := formatEpochs(in); got != want {
			t.Errorf("formatEpochs(%v) = %q, want %q", in, got, want)
		}
	}
}

// Welch's t against a worked example: {0.50, 0.52, 0.54} vs {0.40, 0.41, 0.42}: variances of
// the means 4/3·1e-4 and 1/3·1e-4, so t = 0.11/√(5/3·1e-4) = 11/√(5/3) and
// df = (5/3)² / ((4/3)²/2 + (1/3)²/2) = 50/17.
func TestWelch(t *testing.T) {
	cell := func(v ...float64) TableCell {
		c := TableCell{MIoU: v, N: len(v)}
		c.Mean, c.Std = meanStd(v)
		return c
	}
	tv, df, ok := welch(cell(0.50, 0.52, 0.54), cell(0.40, 0.41, 0.42))
	if !ok || math.Abs(tv-11/math.Sqrt(5.0/3)) > 1e-9 || math.Abs(df-50.0/17) > 1e-9 {
		t.Errorf("t %v df %v ok %v; want %v and %v", tv, df, ok, 11/math.Sqrt(5.0/3), 50.0/17)
	}
	if _, _, ok := welch(cell(0.5), cell(0.4, 0.41)); ok {
		t.Error("one seed was tested")
	}
	if _, _, ok := welch(cell(0.5, 0.5), cell(0.4, 0.4)); ok {
		t.Error("no spread at all was tested")
	}
	// Paired against a worked example: differences {0.010, 0.012, 0.011} have mean 0.011 and
	// sample std 0.001, so t = 0.011/(0.001/√3) = 11√3 ≈ 19.05 on 2 df: beyond the spread,
	// although Welch's test (each side's spread ≈ 0.02) is nowhere near it.
	a, b := cell(0.470, 0.492, 0.451), cell(0.46, 0.48, 0.44)
	if n, mean, _, tv, ok := paired(a, b); !ok || n != 3 || math.Abs(mean-0.011) > 1e-12 || math.Abs(tv-11*math.Sqrt(3)) > 1e-6 {
		t.Errorf("paired: n %d mean %v t %v ok %v; want 3, 0.011, %v", n, mean, tv, ok, 11*math.Sqrt(3))
	}
	if wt, wdf, _ := welch(a, b); math.Abs(wt) > tCritical(wdf) {
		t.Errorf("Welch t %v (df %v) should not exceed the spread here", wt, wdf)
	}
	// Only seeds finished on both sides pair up.
	if n, mean, _, _, ok := paired(cell(0.5, math.NaN(), 0.6), cell(0.4, 0.3, 0.45)); !ok || n != 2 || math.Abs(mean-0.125) > 1e-12 {
		t.Errorf("paired with a missing seed: n %d mean %v ok %v; want 2 pairs, mean 0.125, tested", n, mean, ok)
	}
	for df, want := range map[float64]float64{2.94: 4.303, 3: 3.182, 4.5: 2.776, 200: 1.980} {
		if got := tCritical(df); got != want {
			t.Errorf("tCritical(%v) = %v, want %v", df, got, want)
		}
	}
}
