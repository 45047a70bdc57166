package runlog

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Progress shows how a run is going. Build it with NewProgress, or fill the fields directly
// (tests give their own Out and Now).
type Progress struct {
	Out      io.Writer
	Total    int              // steps in the run
	TTY      bool             // redraw one line in place; false: plain lines
	Width    int              // terminal width for the redrawn line (0: 100)
	Every    int              // plain lines: at most every Every steps (0: 100) …
	Interval time.Duration    // … or once this much time has passed since the last (0: 1 min)
	Redraw   time.Duration    // TTY: least time between redraws (0: 100 ms), the last step always shows
	Beta     float64          // loss smoothing: EMA factor (0: 0.98)
	Now      func() time.Time // the clock (nil: time.Now)

	started   bool
	startTime time.Time // time of the first Update
	startStep int       // step of the first Update
	images    int64     // images since the first Update
	ema       float64   // loss EMA, bias-corrected on display
	emaN      int
	lastShown time.Time
	lastStep  int
	line      string // the line currently drawn on a TTY
	monitors  []shownMonitor
}

// shownMonitor is a monitor on the progress line, smoothed like the loss.
type shownMonitor struct {
	Monitor
	ema float64
	n   int
}

// NewProgress shows progress on out for a run of total steps, redrawing one line if out is
// a terminal and printing plain lines otherwise.
func NewProgress(out io.Writer, total int) *Progress {
	p := &Progress{Out: out, Total: total}
	if fd, ok := terminalFD(out); ok {
		p.TTY = true
		p.Width = terminalWidth(fd)
	}
	return p
}

func (p *Progress) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Update records that step (0-based) is done: its loss, LR, and how many images it used.
// Throughput and ETA are measured from the first Update on, so a resumed run's estimate
// is not thrown off by the steps it skipped, nor by the first step's set-up time.
func (p *Progress) Update(step int, loss, lr float64, images int) {
	now := p.now()
	if !p.started {
		p.started, p.startTime, p.startStep, p.lastShown = true, now, step, now
	} else {
		p.images += int64(images)
	}
	p.lastStep = step
	if !math.IsNaN(loss) && !math.IsInf(loss, 0) {
		beta := p.Beta
		if beta == 0 {
			beta = 0.98
		}
		p.ema = beta*p.ema + (1-beta)*loss
		p.emaN++
	}
	done := step + 1
	last := done >= p.Total
	if p.TTY {
		redraw := p.Redraw
		if redraw == 0 {
			redraw = 100 * time.Millisecond
		}
		if last || now.Sub(p.lastShown) >= redraw || p.line == "" {
			p.lastShown = now
			p.draw(p.status(now, done, loss, lr, true))
		}
		return
	}
	every, interval := p.Every, p.Interval
	if every == 0 {
		every = 100
	}
	if interval == 0 {
		interval = time.Minute
	}
	if last || done%every == 0 || now.Sub(p.lastShown) >= interval {
		p.lastShown = now
		fmt.Fprintln(p.Out, p.status(now, done, loss, lr, false))
	}
}

// SetMonitors records the task's monitors of the step about to be passed to Update; those
// marked Line show after the loss, smoothed like it (a batch's accuracy is noisy), e.g.
// "top1 0.42" or "std 0.031 (1/√d 0.044)". A NaN value (nothing to score this step) leaves
// the average as it was.
func (p *Progress) SetMonitors(ms []Monitor) {
	beta := p.Beta
	if beta == 0 {
		beta = 0.98
	}
	for _, m := range ms {
		if !m.Line {
			continue
		}
		i := 0
		for i < len(p.monitors) && p.monitors[i].Name != m.Name {
			i++
		}
		if i == len(p.monitors) {
			p.monitors = append(p.monitors, shownMonitor{Monitor: m})
		}
		s := &p.monitors[i]
		s.Monitor.Value, s.Ref, s.RefName = m.Value, m.Ref, m.RefName
		if !math.IsNaN(m.Value) && !math.IsInf(m.Value, 0) {
			s.ema = beta*s.ema + (1-beta)*m.Value
			s.n++
		}
	}
}

// monitorText is the monitors' part of the status line.
func (p *Progress) monitorText() string {
	beta := p.Beta
	if beta == 0 {
		beta = 0.98
	}
	var b strings.Builder
	for _, m := range p.monitors {
		v := m.Monitor.Value
		if m.n > 0 {
			v = m.ema / (1 - math.Pow(beta, float64(m.n)))
		}
		format := "  %s %.2f"
		if m.Ref != 0 && m.Ref < 0.1 {
			format = "  %s %.3f"
		}
		fmt.Fprintf(&b, format, m.Name, v)
		if m.Ref != 0 {
			fmt.Fprintf(&b, " (%s %.3f)", m.RefName, m.Ref)
		}
	}
	return b.String()
}

// Print shows a message (a validation result, a checkpoint note) without breaking the
// redrawn line: on a terminal the line is cleared, the message printed, the line redrawn.
func (p *Progress) Print(msg string) {
	if p.TTY && p.line != "" {
		fmt.Fprintf(p.Out, "\r\x1b[K%s\n%s", msg, p.line)
		return
	}
	fmt.Fprintln(p.Out, msg)
}

// Finish ends the redrawn line (a no-op for plain output).
func (p *Progress) Finish() {
	if p.TTY && p.line != "" {
		fmt.Fprintln(p.Out)
		p.line = ""
	}
}

func (p *Progress) draw(line string) {
	width := p.Width
	if width <= 0 {
		width = 100
	}
	if r := []rune(line); len(r) > width-1 {
		line = string(r[:width-1]) // a wrapped line could not be redrawn in place
	}
	p.line = line
	fmt.Fprintf(p.Out, "\r\x1b[K%s", line)
}

// status formats: step, percentage (and a bar on a TTY), smoothed loss, LR, throughput, times.
func (p *Progress) status(now time.Time, done int, loss, lr float64, bar bool) string {
	var b strings.Builder
	frac := 0.0
	if p.Total > 0 {
		frac = math.Min(1, float64(done)/float64(p.Total))
	}
	digits := len(fmt.Sprint(p.Total))
	fmt.Fprintf(&b, "step %*d/%d %3.0f%%", digits, done, p.Total, 100*frac)
	if bar {
		const cells = 20
		n := int(frac * cells)
		fmt.Fprintf(&b, " [%s%s]", strings.Repeat("=", n), strings.Repeat(" ", cells-n))
	}
	smoothed := loss // a NaN or Inf loss shows as such, never hidden by the average
	if p.emaN > 0 && !math.IsNaN(loss) && !math.IsInf(loss, 0) {
		beta := p.Beta
		if beta == 0 {
			beta = 0.98
		}
		smoothed = p.ema / (1 - math.Pow(beta, float64(p.emaN)))
	}
	fmt.Fprintf(&b, "  loss %.4f%s  lr %.2e", smoothed, p.monitorText(), lr)
	elapsed := now.Sub(p.startTime)
	stepsTimed := done - 1 - p.startStep
	if stepsTimed > 0 && elapsed > 0 {
		fmt.Fprintf(&b, "  %.1f img/s", float64(p.images)/elapsed.Seconds())
		eta := time.Duration(float64(elapsed) / float64(stepsTimed) * float64(max(0, p.Total-done)))
		fmt.Fprintf(&b, "  ETA %s", shortDuration(eta))
	} else {
		b.WriteString("  – img/s  ETA –")
	}
	if !bar {
		fmt.Fprintf(&b, "  elapsed %s", shortDuration(elapsed))
	}
	return b.String()
}

// shortDuration writes 45s, 3m12s, 2h05m, 3d04h.
func shortDuration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	default:
		return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
	}
}
