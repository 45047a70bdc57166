// Package plot draws a training run's curves from its metrics.jsonl (train/runlog) to a PNG:
// the loss (each step, faint, and smoothed), the learning rate, the task's monitors when it
// has them (train.Monitorer), and the validation mIoU when the run validated, one panel
// each, on a shared step axis. `ssl4dp plot RUN_DIR` is its command-line front.
package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// Options size and label the figure. Zero values take the defaults.
type Options struct {
	Title       string // above the first panel (e.g. the run folder)
	Width       int    // pixels (default 1000)
	PanelHeight int    // pixels per panel (default 300)
}

// The colours: matplotlib's first four, so the curves look familiar.
var (
	blue   = color.RGBA{31, 119, 180, 255}
	orange = color.RGBA{255, 127, 14, 255}
	green  = color.RGBA{44, 160, 44, 255}
	red    = color.RGBA{214, 39, 40, 255}
	faint  = color.NRGBA{31, 119, 180, 70} // not premultiplied: RGBA would need R,G,B ≤ A
	parts  = []color.RGBA{red, {148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}}
)

// monitorColours: matplotlib's next colours, none of the loss, LR and mIoU ones.
var monitorColours = []color.RGBA{{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {23, 190, 207, 255}}

const dpi = 96

// Panels is the number of panels Curves draws for lg: loss and LR, plus the task's monitors
// when its records have them (a pretext method's top-1, rotation accuracy or output std),
// plus mIoU when there are validation records.
func Panels(lg *runlog.Log) int {
	n := 2
	if len(monitorNames(lg)) > 0 {
		n++
	}
	if len(lg.Val) > 0 {
		n++
	}
	return n
}

// monitorNames are the monitors any training record has, sorted.
func monitorNames(lg *runlog.Log) []string {
	seen := map[string]bool{}
	var names []string
	for _, r := range lg.Train {
		for k := range r.Monitors {
			if !seen[k] {
				seen[k] = true
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	return names
}

// WritePNG draws the curves of lg as a PNG to w.
func WritePNG(w io.Writer, lg *runlog.Log, opts Options) error {
	if opts.Width == 0 {
		opts.Width = 1000
	}
	if opts.PanelHeight == 0 {
		opts.PanelHeight = 300
	}
	if opts.Width < 200 || opts.PanelHeight < 100 {
		return fmt.Errorf("plot: %d×%d pixel panels are too small to read, want at least 200×100", opts.Width, opts.PanelHeight)
	}
	plots, err := panels(lg, opts.Title)
	if err != nil {
		return err
	}
	px := func(n int) vg.Length { return vg.Length(n) * vg.Inch / dpi }
	img := vgimg.NewWith(vgimg.UseWH(px(opts.Width), px(opts.PanelHeight*len(plots))), vgimg.UseDPI(dpi))
	dc := draw.New(img)
	// A white background: the default is transparent, which image viewers show as black.
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	table := make([][]*gplot.Plot, len(plots))
	for i, p := range plots {
		table[i] = []*gplot.Plot{p}
	}
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadY: vg.Millimeter * 3, PadTop: vg.Millimeter * 2,
		PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 4}
	canvases := gplot.Align(table, tiles, dc)
	for i, p := range plots {
		p.Draw(canvases[i][0])
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		return fmt.Errorf("plot: encoding PNG: %w", err)
	}
	return nil
}

// SavePNG writes the curves to path atomically.
func SavePNG(path string, lg *runlog.Log, opts Options) error {
	var buf bytes.Buffer
	if err := WritePNG(&buf, lg, opts); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	return nil
}

// panels builds the loss, LR, (if any) monitor and (if any) mIoU plots over one step range.
func panels(lg *runlog.Log, title string) ([]*gplot.Plot, error) {
	if len(lg.Train) == 0 {
		return nil, fmt.Errorf("plot: the log has no training records to draw")
	}
	var loss, lr plotter.XYs
	partPts := map[string]plotter.XYs{}
	for _, r := range lg.Train {
		x := float64(r.Step)
		if finite(r.Loss) {
			loss = append(loss, plotter.XY{X: x, Y: r.Loss})
		}
		if finite(r.LR) {
			lr = append(lr, plotter.XY{X: x, Y: r.LR})
		}
		for k, v := range r.Losses {
			if finite(v) {
				partPts[k] = append(partPts[k], plotter.XY{X: x, Y: v})
			}
		}
	}
	if len(loss) == 0 {
		return nil, fmt.Errorf("plot: none of the %d training records has a finite loss", len(lg.Train))
	}
	xmin, xmax := float64(lg.Train[0].Step), float64(lg.Train[len(lg.Train)-1].Step)
	for _, v := range lg.Val {
		xmax = math.Max(xmax, float64(v.Step))
	}
	if xmax == xmin {
		xmax = xmin + 1
	}

	lossPlot := newPanel(title, "loss", xmin, xmax)
	if err := addLine(lossPlot, loss, faint, 1, "", false); err != nil {
		return nil, err
	}
	if err := addLine(lossPlot, smooth(loss), blue, 2, "loss (smoothed)", false); err != nil {
		return nil, err
	}
	// Parts of the loss, when there are several, as dashed smoothed lines.
	if len(partPts) > 1 {
		names := make([]string, 0, len(partPts))
		for k := range partPts {
			names = append(names, k)
		}
		sort.Strings(names)
		for i, k := range names {
			if err := addLine(lossPlot, smooth(partPts[k]), parts[i%len(parts)], 1.5, k, true); err != nil {
				return nil, err
			}
		}
	}

	lrPlot := newPanel("", "learning rate", xmin, xmax)
	if len(lr) > 0 {
		if err := addLine(lrPlot, lr, orange, 2, "", false); err != nil {
			return nil, err
		}
	}
	out := []*gplot.Plot{lossPlot, lrPlot}

	// The monitors, smoothed like the loss (a batch's accuracy is noisy), in one panel: they
	// are all fractions or small stds, so one axis holds them.
	if names := monitorNames(lg); len(names) > 0 {
		p := newPanel("", "monitors", xmin, xmax)
		for i, k := range names {
			var pts plotter.XYs
			for _, r := range lg.Train {
				if v, ok := r.Monitors[k]; ok && finite(v) {
					pts = append(pts, plotter.XY{X: float64(r.Step), Y: v})
				}
			}
			if len(pts) == 0 {
				continue
			}
			if err := addLine(p, smooth(pts), monitorColours[i%len(monitorColours)], 2, k+" (smoothed)", false); err != nil {
				return nil, err
			}
		}
		out = append(out, p)
	}

	if len(lg.Val) > 0 {
		var miou plotter.XYs
		for _, v := range lg.Val {
			if finite(v.Scores.MIoU) {
				miou = append(miou, plotter.XY{X: float64(v.Step), Y: 100 * v.Scores.MIoU})
			}
		}
		p := newPanel("", "val mIoU (%)", xmin, xmax)
		if len(miou) > 0 {
			if err := addLine(p, miou, green, 2, "", false); err != nil {
				return nil, err
			}
			pts, err := plotter.NewScatter(miou)
			if err != nil {
				return nil, fmt.Errorf("plot: %w", err)
			}
			pts.GlyphStyle.Color, pts.GlyphStyle.Radius, pts.GlyphStyle.Shape = green, vg.Points(3), draw.CircleGlyph{}
			p.Add(pts)
		}
		out = append(out, p)
	}
	out[len(out)-1].X.Label.Text = "step"
	return out, nil
}

func newPanel(title, ylabel string, xmin, xmax float64) *gplot.Plot {
	p := gplot.New()
	p.Title.Text = title
	p.Y.Label.Text = ylabel
	p.Y.Tick.Marker = gplot.TickerFunc(func(min, max float64) []gplot.Tick {
		// gonum's labels for small values ("0.0002") are long; %g keeps them short (2e-04).
		ticks := gplot.DefaultTicks{}.Ticks(min, max)
		for i := range ticks {
			if ticks[i].Label != "" {
				ticks[i].Label = strconv.FormatFloat(ticks[i].Value, 'g', 4, 64)
			}
		}
		return ticks
	})
	p.X.Min, p.X.Max = xmin, xmax
	p.X.Tick.Marker = stepTicks{}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true // a falling loss leaves the top right of its panel empty
	return p
}

func addLine(p *gplot.Plot, pts plotter.XYs, c color.Color, width float64, legend string, dashed bool) error {
	l, err := plotter.NewLine(pts)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	l.Color, l.Width = c, vg.Points(width)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
	}
	p.Add(l)
	if legend != "" {
		p.Legend.Add(legend, l)
	}
	return nil
}

// smooth is a bias-corrected exponential moving average whose window is about 1/25 of the
// curve (at least 1 point, at most 200), so short and long runs both read well.
func smooth(pts plotter.XYs) plotter.XYs {
	window := math.Min(200, math.Max(1, float64(len(pts))/25))
	beta := 1 - 1/window
	out := make(plotter.XYs, len(pts))
	ema := 0.0
	for i, p := range pts {
		ema = beta*ema + (1-beta)*p.Y
		y := ema
		if beta > 0 {
			y = ema / (1 - math.Pow(beta, float64(i+1)))
		}
		out[i] = plotter.XY{X: p.X, Y: y}
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// ReadAndSave reads the metrics of a run folder (or a metrics.jsonl) and saves its curves.
func ReadAndSave(runDirOrFile, out string, opts Options) error {
	lg, err := runlog.ReadFile(runDirOrFile)
	if err != nil {
		return err
	}
	return SavePNG(out, lg, opts)
}

// stepTicks labels the step axis with round integers (0, 500, 1000, …), about six of them;
// gonum's default ticks label few and print "250.00".
type stepTicks struct{}

func (stepTicks) Ticks(min, max float64) []gplot.Tick {
	// The smallest of 1, 2, 5, 10, 20, 50, … that gives at most eight labelled ticks.
	step := 1.0
	for p := 1.0; (max-min)/step > 8; p *= 10 {
		for _, m := range []float64{1, 2, 5} {
			if step = m * p; (max-min)/step <= 8 {
				break
			}
		}
	}
	var ticks []gplot.Tick
	for v := math.Ceil(min/step) * step; v <= max+1e-9; v += step {
		ticks = append(ticks, gplot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		for k := 1; k < 5; k++ { // minor ticks, unlabelled
			if m := v + float64(k)*step/5; m <= max {
				ticks = append(ticks, gplot.Tick{Value: m})
			}
		}
	}
	return ticks
}
