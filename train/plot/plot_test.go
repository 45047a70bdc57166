package plot

import (
	"bytes"
	"flag"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/train/runlog"
	"github.com/ssl4dp/ssl4dp/train/schedule"
)

var update = flag.Bool("update", false, "rewrite testdata/run/metrics.jsonl")

const fixture = "testdata/run"

// writeFixture makes the test run's metrics: 300 steps of a loss falling from about 2.5 with
// deterministic noise (parts "ce" and "aux"), poly LR 0.01 → 1e-4, validation every 50 steps,
// a resume that repeats steps 200–219 (the first attempt's values there are 10× too high, so a
// reader that kept them would show a spike), and a torn last line.
// Regenerate with: go test ./train/plot -run TestFixture -update
func writeFixture(t *testing.T, dir string) {
	t.Helper()
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, runlog.FileName)
	os.Remove(path)
	w, err := runlog.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	sched := schedule.Schedule{Kind: schedule.Poly, BaseLR: 0.01, FinalLR: 1e-4, Power: 0.9, Total: 300}
	rng := uint32(7)
	noise := func() float64 { rng = rng*1664525 + 1013904223; return float64(rng>>8)/float64(1<<24) - 0.5 }
	rec := func(step int, scale float64) runlog.TrainRecord {
		ce := (0.4 + 2*math.Exp(-float64(step)/80) + 0.3*noise()) * scale
		aux := 0.4 * ce * (1 + 0.2*noise())
		return runlog.TrainRecord{Step: step, Epoch: float64(step) / 100, Loss: ce + aux, Losses: map[string]float64{"ce": ce, "aux": aux},
			LR: sched.LR(step), ImagesPerSec: 20 + noise(), TimeS: float64(step) * 0.4}
	}
	val := func(step int) runlog.ValRecord {
		m := 0.05 + 0.6*(1-math.Exp(-float64(step)/120))
		return runlog.ValRecord{Step: step, Epoch: float64(step) / 100, Scores: metrics.Scores{MIoU: m, PixelAcc: 0.5 + m/2, MeanAcc: m + 0.05}, TimeS: float64(step) * 0.4}
	}
	for step := 0; step < 220; step++ {
		scale := 1.0
		if step >= 200 {
			scale = 10 // the abandoned attempt
		}
		w.Train(rec(step, scale))
		if (step+1)%50 == 0 {
			w.Val(val(step))
		}
	}
	for step := 200; step < 300; step++ {
		w.Train(rec(step, 1))
		if (step+1)%50 == 0 {
			w.Val(val(step))
		}
	}
	w.Close()
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"kind":"train","step":300,"epo`)
	f.Close()
}

func TestFixture(t *testing.T) {
	if *update {
		writeFixture(t, fixture)
	}
	lg, err := runlog.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if len(lg.Train) != 300 || len(lg.Val) != 6 || !lg.Torn {
		t.Fatalf("fixture reads as %d train, %d val records, torn %v; want 300, 6, true", len(lg.Train), len(lg.Val), lg.Torn)
	}
	for i, r := range lg.Train {
		if r.Step != i || r.Loss > 5 {
			t.Fatalf("record %d: %+v (the abandoned attempt's records must be gone)", i, r)
		}
	}
}

// colourRows counts, for each row of the image, the pixels within 40 (per channel) of c.
func colourRows(img image.Image, c color.RGBA) []int {
	b := img.Bounds()
	rows := make([]int, b.Dy())
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if near(r>>8, c.R) && near(g>>8, c.G) && near(bl>>8, c.B) {
				rows[y-b.Min.Y]++
			}
		}
	}
	return rows
}

func near(a uint32, b uint8) bool { return math.Abs(float64(a)-float64(b)) <= 40 }

// sum of counts[from:to].
func sum(counts []int, from, to int) int {
	n := 0
	for _, c := range counts[from:to] {
		n += c
	}
	return n
}

// The PNG decodes, has one 300-pixel panel per curve, and each curve's colour is drawn in its
// own panel: the smoothed loss (blue) in the first third, the LR (orange) in the second,
// the mIoU (green) in the last.
func TestWritePNG(t *testing.T) {
	lg, err := runlog.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WritePNG(&buf, lg, Options{Title: "fixture run"}); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not a valid PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1000 || b.Dy() != 900 {
		t.Fatalf("image is %dx%d, want 1000x900", b.Dx(), b.Dy())
	}
	if r, g, b, _ := img.At(2, 2).RGBA(); r>>8 != 255 || g>>8 != 255 || b>>8 != 255 {
		t.Errorf("background is not white")
	}
	for _, tc := range []struct {
		name   string
		c      color.RGBA
		panel  int
		within int // at least this many pixels in its panel
	}{{"loss", blue, 0, 1000}, {"lr", orange, 1, 1000}, {"miou", green, 2, 400}} {
		rows := colourRows(img, tc.c)
		for p := 0; p < 3; p++ {
			n := sum(rows, p*300, (p+1)*300)
			if p == tc.panel && n < tc.within {
				t.Errorf("%s: %d pixels of its colour in panel %d, want ≥ %d", tc.name, n, p, tc.within)
			}
			if p != tc.panel && n > 50 {
				t.Errorf("%s: %d pixels of its colour in panel %d, where it does not belong", tc.name, n, p)
			}
		}
	}
	if os.Getenv("SSL4DP_KEEP_PLOT") != "" { // to look at it: SSL4DP_KEEP_PLOT=/tmp/curves.png go test …
		os.WriteFile(os.Getenv("SSL4DP_KEEP_PLOT"), data, 0o644)
	}
}

func TestWithoutValidationAndErrors(t *testing.T) {
	lg := &runlog.Log{Train: []runlog.TrainRecord{{Step: 0, Loss: 1, LR: 0.1}, {Step: 1, Loss: math.NaN(), LR: 0.1}, {Step: 2, Loss: 0.5, LR: 0.05}}}
	if Panels(lg) != 2 {
		t.Errorf("panels %d, want 2", Panels(lg))
	}
	out := filepath.Join(t.TempDir(), "c.png")
	if err := SavePNG(out, lg, Options{Width: 400, PanelHeight: 150}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(out)
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 400 || cfg.Height != 300 {
		t.Errorf("saved PNG %dx%d (%v), want 400x300", cfg.Width, cfg.Height, err)
	}
	for _, tc := range []struct {
		lg   *runlog.Log
		opts Options
		want string
	}{
		{&runlog.Log{}, Options{}, "no training records"},
		{&runlog.Log{Train: []runlog.TrainRecord{{Loss: math.Inf(1)}}}, Options{}, "none of the 1 training records has a finite loss"},
		{lg, Options{Width: 10}, "too small"},
	} {
		if err := WritePNG(&bytes.Buffer{}, tc.lg, tc.opts); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}

func TestStepTicks(t *testing.T) {
	for _, tc := range []struct {
		min, max float64
		want     string
	}{{0, 299, "0 50 100 150 200 250"}, {0, 3, "0 1 2 3"}, {0, 20000, "0 5000 10000 15000 20000"}, {1000, 1900, "1000 1200 1400 1600 1800"}} {
		var labels []string
		for _, tk := range (stepTicks{}).Ticks(tc.min, tc.max) {
			if tk.Label != "" {
				labels = append(labels, tk.Label)
			}
		}
		if got := strings.Join(labels, " "); got != tc.want {
			t.Errorf("ticks for [%v, %v]: %q, want %q", tc.min, tc.max, got, tc.want)
		}
	}
}

// A run with monitors gets a third panel between the LR and the mIoU, with each monitor's
// smoothed curve in its own colour (the first, purple, is checked here), in that panel only.
func TestMonitorPanel(t *testing.T) {
	var lg runlog.Log
	for step := 0; step < 100; step++ {
		lg.Train = append(lg.Train, runlog.TrainRecord{Step: step, Loss: 5 - float64(step)/50, LR: 0.1,
			Monitors: map[string]float64{"top1": float64(step) / 100, "top5": 0.5 + float64(step)/200}})
	}
	lg.Val = []runlog.ValRecord{{Step: 99}}
	lg.Val[0].Scores.MIoU = 0.5
	if Panels(&lg) != 4 {
		t.Fatalf("panels %d, want 4", Panels(&lg))
	}
	var buf bytes.Buffer
	if err := WritePNG(&buf, &lg, Options{Width: 600, PanelHeight: 200}); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dy() != 800 {
		t.Fatalf("height %d, want 800", img.Bounds().Dy())
	}
	rows := colourRows(img, monitorColours[0])
	for p := 0; p < 4; p++ {
		n := sum(rows, p*200, (p+1)*200)
		if p == 2 && n < 300 {
			t.Errorf("top1's colour: %d pixels in the monitor panel, want ≥ 300", n)
		}
		if p != 2 && n > 30 {
			t.Errorf("top1's colour: %d pixels in panel %d, where it does not belong", n, p)
		}
	}
}
