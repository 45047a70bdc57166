package pretext

import (
	"math"
	"testing"

	"github.com/ssl4dp/ssl4dp/graphs"
)

// Ranks worked out by hand: row 0's positive (col 0) is highest; row 1's has two above it;
// row 2's ties one negative (a tie ranks against it); row 3 is skipped (label −1); row 4's
// positive is col 2 with five above it.
func TestRankAccuracyHandRanks(t *testing.T) {
	const cols = 7
	logits := []float32{
		5, 1, 2, 0, 0, 0, 0, // rank 0
		1, 3, 2, 0, 0, 0, 0, // two above: top-5, not top-1
		2, 2, 0, 0, 0, 0, 0, // tied: rank 1
		9, 9, 9, 9, 9, 9, 9, // skipped
		1, 2, 0, 3, 4, 5, 6, // positive 0 at col 2, all six others above: neither
	}
	labels := []int{0, 0, 0, -1, 2}
	top1, top5, n := rankAccuracy(logits, 5, cols, func(i int) int { return labels[i] })
	if n != 4 || top1 != 0.25 || top5 != 0.75 {
		t.Errorf("top1 %v, top5 %v over %d rows; want 0.25, 0.75 over 4", top1, top5, n)
	}
	// A collapsed network (every logit equal) scores 0, not 1.
	flat := make([]float32, 3*cols)
	if top1, top5, _ := rankAccuracy(flat, 3, cols, func(int) int { return 0 }); top1 != 0 || top5 != 0 {
		t.Errorf("all-equal logits: top1 %v, top5 %v, want 0, 0", top1, top5)
	}
	nan := float32(math.NaN())
	broken := []float32{nan, 0, 0, 0, 0, 0, 0 /* NaN positive */, 5, nan, 0, 0, 0, 0, 0 /* a NaN negative */}
	if top1, top5, _ := rankAccuracy(broken, 2, cols, func(int) int { return 0 }); top1 != 0 || top5 != 0.5 {
		t.Errorf("NaN logits: top1 %v, top5 %v, want 0 (a NaN ranks against), 0.5", top1, top5)
	}
	if top1, _, n := rankAccuracy(flat, 3, cols, func(int) int { return -1 }); n != 0 || !math.IsNaN(top1) {
		t.Errorf("no labelled row: top1 %v over %d rows, want NaN over 0", top1, n)
	}
}

// Two images of 2×2 pixels, logits class-major per image; pixel by pixel by hand.
func TestRotationAccuracyHand(t *testing.T) {
	logits := []float32{
		// image 0: classes 0..3 over its 4 pixels
		5, 0, 0, 1,
		0, 5, 0, 1,
		0, 0, 5, 1,
		0, 0, 0, 1, // pixel 3: all four equal 1 → a tie, wrong
		// image 1
		1, 0, 0, 0,
		0, 1, 0, 0,
		0, 0, 1, 0,
		0, 0, 0, 1,
	}
	turns := []float32{
		0, 1, 3, 3, // right, right, wrong (argmax 2), tie
		0, 255, 2, 0, // right, ignored, right, wrong (argmax 3)
	}
	if got := rotationAccuracy(logits, turns, 2, 4); math.Abs(got-4.0/7) > 1e-12 {
		t.Errorf("rotation accuracy %v, want 4/7", got)
	}
	logits[0] = float32(math.NaN()) // image 0, pixel 0's right class: now wrong
	if got := rotationAccuracy(logits, turns, 2, 4); math.Abs(got-3.0/7) > 1e-12 {
		t.Errorf("rotation accuracy with a NaN logit %v, want 3/7", got)
	}
}

// Rows already of unit norm, ±1/√2 in two dimensions: each dimension's values are ±1/√2
// half the time, population std 1/√2; a third dimension always 0 has std 0. Mean over d=3:
// (2/√2)/3. Scaling a row does not change it (the rows are normalised first); equal rows
// (collapse) give 0.
func TestNormalizedStdHand(t *testing.T) {
	s := float32(1 / math.Sqrt2)
	z := []float32{
		s, s, 0,
		-s, -s, 0,
		3 * s, -3 * s, 0, // scaled ×3
		-s, s, 0,
	}
	want := 2 / math.Sqrt2 / 3
	if got := normalizedStd(z, 4, 3); math.Abs(got-want) > 1e-7 {
		t.Errorf("std %v, want %v", got, want)
	}
	same := []float32{1, 2, 3, 2, 4, 6, 0.5, 1, 1.5} // one direction, three lengths
	if got := normalizedStd(same, 3, 3); got > 1e-7 {
		t.Errorf("collapsed outputs: std %v, want 0", got)
	}
}

// The monitors only read the step's values: a method run with them gives the same losses, to
// the bit, as without; and each gives values in range, the contrastive ones with their
// chance level.
func TestMonitorsDoNotChangeTheLoss(t *testing.T) {
	const size, batch, steps = 32, 4, 3
	for _, method := range Methods {
		t.Run(method, func(t *testing.T) {
			run := func(monitor bool) ([]float64, *driver) {
				c, err := Defaults(method, CPU)
				if err != nil {
					t.Fatal(err)
				}
				switch cc := c.(type) {
				case *MoCoConfig:
					cc.Queue = 16
				case *PLMoCoConfig:
					cc.DenseQueue, cc.Queue, cc.GlobalWeight = 32, 16, 0.5
				case *DenseCLConfig:
					cc.DenseQueue, cc.Queue = 16, 16
				case *PixProConfig:
					cc.Dim, cc.Hidden = 32, 64
				case *PLRConfig:
					cc.Grid = 2
				}
				o := Options{Net: Net{Encoder: graphs.ResNet18, Width: 0.125, DecoderWidth: 16}, Size: size, Seed: 1, Steps: steps}
				task, err := New(method, o, c)
				if err != nil {
					t.Fatal(err)
				}
				d := buildDriver(t, task, batch, 0.05)
				d.monitor = monitor
				var losses []float64
				for _, b := range batches(t, task, batch, steps) {
					losses = append(losses, d.run(b))
				}
				return losses, d
			}
			plain, _ := run(false)
			watched, d := run(true)
			for i := range plain {
				if math.Float64bits(plain[i]) != math.Float64bits(watched[i]) {
					t.Errorf("step %d: loss %v without monitors, %v with", i, plain[i], watched[i])
				}
			}
			for step, ms := range d.monitors {
				if len(ms) == 0 {
					t.Fatalf("step %d: no monitors", step)
				}
				for _, m := range ms {
					lo := 0.0
					if m.Name == "pos_cos" { // a mean cosine
						lo = -1
					}
					if !(m.Value >= lo && m.Value <= 1) {
						t.Errorf("step %d: %s = %v, want a value in [0, 1]", step, m.Name, m.Value)
					}
				}
			}
			want := map[string]float64{"moco": 1.0 / 17, "edmoco": 1.0 / 17, "simclr": 1.0 / 7, "plmoco": 1.0 / 17, "pledmoco": 1.0 / 17, "plr": 0.25, "densecl": 1.0 / 17}
			if ch, ok := want[method]; ok {
				found := false
				for _, m := range d.monitors[0] {
					if m.Name == "top1" || m.Name == "rot" {
						found = true
						if math.Abs(m.Chance-ch) > 1e-12 {
							t.Errorf("%s chance %v, want %v", m.Name, m.Chance, ch)
						}
					}
				}
				if !found {
					t.Errorf("no top1/rot monitor in %+v", d.monitors[0])
				}
			}
		})
	}
}
