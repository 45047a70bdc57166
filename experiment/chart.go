package experiment

import (
	"bytes"
	"fmt"
	"image/color"
	"math"

	gplot "gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
)

// headColours are matplotlib's first colours, one per head.
var headColours = []color.RGBA{
	{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255},
}

// SaveChart writes results.png: mIoU (%) per row as a group of bars, one per head, with the
// standard deviation over seeds as error bars (none for a single seed).
func (t *Table) SaveChart(path string) error {
	p := gplot.New()
	p.Title.Text = t.Title
	if p.Title.Text == "" {
		p.Title.Text = "mIoU per pre-training and head"
	}
	p.Y.Label.Text = "mIoU (%), mean ± std over seeds"
	p.Y.Min = 0
	names := make([]string, len(t.Rows))
	for i, r := range t.Rows {
		names[i] = r.Name
	}
	nh := max(len(t.Heads), 1)
	groupWidth := vg.Points(float64(min(300, 40*nh+20)))
	barWidth := groupWidth / vg.Length(nh+1)
	top := 0.0
	for hi, head := range t.Heads {
		vals := make(plotter.Values, len(t.Rows))
		errs := make(plotter.YErrors, len(t.Rows))
		pts := make(plotter.XYs, len(t.Rows))
		for ri, r := range t.Rows {
			c := r.Cells[hi]
			v, s := 100*c.Mean, 100*c.Std
			if math.IsNaN(v) {
				v = 0
			}
			if math.IsNaN(s) {
				s = 0
			}
			vals[ri] = v
			errs[ri] = struct{ Low, High float64 }{s, s}
			pts[ri] = plotter.XY{X: float64(ri), Y: v}
			top = math.Max(top, v+s)
		}
		bars, err := plotter.NewBarChart(vals, barWidth)
		if err != nil {
			return fmt.Errorf("experiment: chart: %w", err)
		}
		offset := barWidth * (vg.Length(hi) - vg.Length(nh-1)/2)
		bars.Offset = offset
		bars.Color = headColours[hi%len(headColours)]
		bars.LineStyle.Width = 0
		p.Add(bars)
		p.Legend.Add(head, bars)
		eb := &errorBars{XYs: pts, YErrors: errs, offset: offset}
		eb.LineStyle = draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
		eb.CapWidth = barWidth / 3
		p.Add(eb)
		// The value above each bar (and its error bar), so the chart reads without the table.
		var labels plotter.XYLabels
		for ri, r := range t.Rows {
			if c := r.Cells[hi]; c.N > 0 {
				labels.XYs = append(labels.XYs, plotter.XY{X: float64(ri), Y: vals[ri] + errs[ri].High})
				labels.Labels = append(labels.Labels, Percent(c.Mean))
			}
		}
		if len(labels.Labels) > 0 {
			lb, err := plotter.NewLabels(labels)
			if err != nil {
				return fmt.Errorf("experiment: chart: %w", err)
			}
			for i := range lb.TextStyle {
				lb.TextStyle[i].XAlign = draw.XCenter
				lb.TextStyle[i].YAlign = draw.YBottom
				lb.TextStyle[i].Font.Size = vg.Points(8)
			}
			lb.Offset = vg.Point{X: offset, Y: vg.Points(2)}
			p.Add(lb)
		}
	}
	p.NominalX(names...)
	// Half a group of room on either side, so the outer bars are not cut off.
	p.X.Min, p.X.Max = -0.6, float64(len(t.Rows))-0.4
	p.Y.Max = math.Max(10, top*1.2)
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.XOffs = vg.Points(10)
	width := vg.Points(math.Max(480, float64(len(t.Rows))*(float64(groupWidth)+20)+120))
	img := vgimg.NewWith(vgimg.UseWH(width, vg.Points(360)), vgimg.UseDPI(96))
	dc := draw.New(img)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	// Long row names need room: tilt them.
	p.X.Tick.Label.Rotation = math.Pi / 8
	p.X.Tick.Label.XAlign = draw.XRight
	p.X.Tick.Label.YAlign = draw.YTop
	p.Draw(dc)
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return fmt.Errorf("experiment: chart: encoding PNG: %w", err)
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	return nil
}

// errorBars are plotter.YErrorBars shifted sideways onto their bar (gonum's error bars
// have no offset). Zero-length bars are not drawn.
type errorBars struct {
	plotter.XYs
	plotter.YErrors
	draw.LineStyle
	CapWidth vg.Length
	offset   vg.Length
}

func (e *errorBars) Plot(c draw.Canvas, p *gplot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, pt := range e.XYs {
		lo, hi := e.YErrors[i].Low, e.YErrors[i].High
		if lo == 0 && hi == 0 {
			continue
		}
		x := trX(pt.X) + e.offset
		y0, y1 := trY(pt.Y-lo), trY(pt.Y+hi)
		c.StrokeLine2(e.LineStyle, x, y0, x, y1)
		c.StrokeLine2(e.LineStyle, x-e.CapWidth/2, y0, x+e.CapWidth/2, y0)
		c.StrokeLine2(e.LineStyle, x-e.CapWidth/2, y1, x+e.CapWidth/2, y1)
	}
}
