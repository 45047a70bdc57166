package runlog

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeClock advances by step each time it is read.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

func TestProgressPlain(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(0, 0), step: 2 * time.Second}
	p := &Progress{Out: &out, Total: 10, Every: 5, Now: clock.now, Beta: 0.5}
	for step := 0; step < 10; step++ {
		p.Update(step, float64(10-step), 0.01, 4)
	}
	p.Finish()
	// Step 4 (done 5): 4 timed steps of 2 s, 16 images in 8 s = 2 img/s, ETA 5 steps × 2 s.
	// The loss shown is the bias-corrected EMA (β=0.5) of 10, 9, 8, …, recomputed here.
	ema, n := 0.0, 0
	smooth := func(x float64) float64 { ema = 0.5*ema + 0.5*x; n++; return ema / (1 - math.Pow(0.5, float64(n))) }
	var s5, s10 float64
	for i := 0; i < 10; i++ {
		v := smooth(float64(10 - i))
		if i == 4 {
			s5 = v
		}
		s10 = v
	}
	want := []string{
		"step  5/10  50%  loss " + f4(s5) + "  lr 1.00e-02  2.0 img/s  ETA 10s  elapsed 8s",
		"step 10/10 100%  loss " + f4(s10) + "  lr 1.00e-02  2.0 img/s  ETA 0s  elapsed 18s",
	}
	if got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("plain output\n%s\nwant\n%s", out.String(), strings.Join(want, "\n"))
	}
}

func f4(v float64) string { return fmt.Sprintf("%.4f", v) }

func TestProgressPlainInterval(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(0, 0), step: 20 * time.Second}
	p := &Progress{Out: &out, Total: 1000, Every: 1000, Interval: time.Minute, Now: clock.now}
	for step := 0; step < 7; step++ {
		p.Update(step, 1, 0.1, 1)
	}
	// First update at t=20 s; lines when 60 s have passed since the last: steps done 4 and 7.
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "step    4/1000") || !strings.HasPrefix(lines[1], "step    7/1000") {
		t.Errorf("interval lines:\n%s", out.String())
	}
	if !strings.Contains(lines[1], "0.1 img/s  ETA 5h31m") { // 6 steps in 120 s: 20 s/step, 993 left
		t.Errorf("rate/ETA in %q", lines[1])
	}
}

func TestProgressTTY(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(0, 0), step: time.Second}
	p := &Progress{Out: &out, Total: 4, TTY: true, Width: 200, Now: clock.now}
	p.Update(0, math.NaN(), 0.5, 2)
	if got := out.String(); got != "\r\x1b[Kstep 1/4  25% [=====               ]  loss NaN  lr 5.00e-01  – img/s  ETA –" {
		t.Errorf("first draw %q", got)
	}
	p.Update(1, 3, 0.5, 2)
	p.Print("val mIoU 12.34")
	p.Update(2, 3, 0.5, 2)
	p.Update(3, 3, 0.5, 2)
	p.Finish()
	s := out.String()
	for _, want := range []string{
		"\r\x1b[Kval mIoU 12.34\nstep 2/4", // cleared, printed, line redrawn
		"\r\x1b[Kstep 4/4 100% [====================]  loss 3.0000  lr 5.00e-01  2.0 img/s  ETA 0s\n",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("TTY output %q lacks %q", s, want)
		}
	}
	// A narrow terminal gets a cut line rather than a wrapped one.
	out.Reset()
	p = &Progress{Out: &out, Total: 4, TTY: true, Width: 20, Now: clock.now}
	p.Update(0, 1, 1, 1)
	if got := out.String(); got != "\r\x1b[Kstep 1/4  25% [====" {
		t.Errorf("narrow draw %q", got)
	}
}

func TestProgressDetectsNonTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if NewProgress(f, 10).TTY || NewProgress(&bytes.Buffer{}, 10).TTY {
		t.Error("a file or buffer taken for a terminal")
	}
	if null, err := os.Open(os.DevNull); err == nil {
		defer null.Close()
		if NewProgress(null, 10).TTY {
			t.Error("/dev/null taken for a terminal")
		}
	}
}

func TestShortDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		45 * time.Second: "45s", 192 * time.Second: "3m12s", 2*time.Hour + 5*time.Minute: "2h05m", 76 * time.Hour: "3d04h",
	} {
		if got := shortDuration(d); got != want {
			t.Errorf("shortDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// Monitors marked Line show after the loss, averaged like it (β = 0.5 here: 0.5 and 1 give
// (0.25 + 0.5)/(1 − 0.25) = 1 … recomputed below), with their reference; others do not show.
func TestProgressMonitors(t *testing.T) {
	var out bytes.Buffer
	clock := &fakeClock{t: time.Unix(0, 0), step: time.Second}
	p := &Progress{Out: &out, Total: 2, Every: 2, Now: clock.now, Beta: 0.5}
	p.SetMonitors([]Monitor{{Name: "top1", Value: 0.5, Line: true}, {Name: "top5", Value: 0.9}, {Name: "std", Value: 0.02, Ref: 0.0884, RefName: "1/√d", Line: true}})
	p.Update(0, 1, 0.1, 1)
	p.SetMonitors([]Monitor{{Name: "top1", Value: 1, Line: true}, {Name: "top5", Value: 1}, {Name: "std", Value: math.NaN(), Ref: 0.0884, RefName: "1/√d", Line: true}})
	p.Update(1, 1, 0.1, 1)
	// top1: EMA 0.25 then 0.625, corrected by 1 − 0.25: 0.8333. std: one value, 0.02.
	want := "step 2/2 100%  loss 1.0000  top1 0.83  std 0.020 (1/√d 0.088)  lr 1.00e-01"
	if got := out.String(); !strings.HasPrefix(got, want) {
		t.Errorf("line\n%s\nwant it to start\n%s", got, want)
	}
}
