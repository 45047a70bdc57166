package demo

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/ssl4dp/ssl4dp/experiment"
)

// Line is one line of the demo's table, in the seed's format.
type Line struct {
	Pretraining string
	Epochs      string
	Head        string
	MIoU        float64 // fraction; the exported model's mIoU with onnxruntime
	// Linear and Retrieval score the row's encoder frozen (docs/protocols.md); NaN when the
	// grid has no such probe or it has not finished.
	Linear, Retrieval float64
	Note              string
	Cell              string // the cell folder: model.onnx, curves.png, overlays/
}

// Lines is the table: one line per row and head, with the row's probes beside its cells and
// the first row (random initialisation) as the reference the notes compare against.
func (r *Result) Lines() []Line {
	t := r.Experiment.Table
	var lines []Line
	base := math.NaN()
	for i, row := range t.Rows {
		probe := map[string]float64{}
		for _, c := range row.Cells {
			if slices.Contains(t.Probes, c.Head) {
				probe[c.Head] = c.Mean
			}
		}
		value := func(name string) float64 {
			if v, ok := probe[name]; ok {
				return v
			}
			return math.NaN()
		}
		for _, c := range row.Cells {
			if slices.Contains(t.Probes, c.Head) {
				continue
			}
			l := Line{Pretraining: row.Name, Epochs: row.Epochs, Head: c.Head, MIoU: c.Mean, Note: row.Note,
				Linear: value(experiment.ProbeColumns[experiment.ProtocolLinear]), Retrieval: value(experiment.ProbeColumns[experiment.ProtocolRetrieval])}
			for _, f := range c.Folder {
				if f != "" {
					l.Cell = filepath.Join(r.Out, f)
				}
			}
			if i == 0 && math.IsNaN(base) {
				base = c.Mean
			} else if !math.IsNaN(base) && !math.IsNaN(c.Mean) && l.Note == "" {
				l.Note = fmt.Sprintf("%+.1f vs %s", 100*(c.Mean-base), t.Rows[0].Name)
			}
			lines = append(lines, l)
		}
	}
	return lines
}

// WriteReport prints the table, the benchmark's headline and where the files are.
func (r *Result) WriteReport(w io.Writer) error {
	ew := &errWriter{w: w}
	t := r.Experiment.Table
	title := "ssl4dp demo"
	if r.Quick {
		title += " --quick (a reduced run for tests: the numbers mean nothing)"
	}
	ew.printf("%s on %s\n\n", title, t.Data)
	lines := r.Lines()
	probes := len(t.Probes) > 0
	header := []string{"pre-training", "epochs", "head", "mIoU", "note"}
	if probes {
		header = []string{"pre-training", "epochs", "head", "mIoU", "linear", "retrieval", "note"}
	}
	rows := [][]string{header}
	for _, l := range lines {
		if probes {
			rows = append(rows, []string{l.Pretraining, l.Epochs, l.Head, experiment.Percent(l.MIoU),
				experiment.Percent(l.Linear), experiment.Percent(l.Retrieval), l.Note})
		} else {
			rows = append(rows, []string{l.Pretraining, l.Epochs, l.Head, experiment.Percent(l.MIoU), l.Note})
		}
	}
	writeTable(ew, rows)
	ew.printf("\nmIoU (%%): each exported ONNX model evaluated with onnxruntime on the val split (`ssl4dp evaluate`);\n" +
		"one seed, so differences of a point or two can be seed-to-seed noise (`ssl4dp experiment` runs several).\n")
	if probes {
		ew.printf("linear, retrieval (mIoU %%): the row's encoder frozen — a 1×1 conv + BatchNorm on its features, and\n" +
			"Hummingbird's nearest-patch labels (`ssl4dp evaluate linear|retrieval`, docs/protocols.md).\n")
	}
	if r.Bench != nil && len(r.Bench.Results) > 0 {
		ew.printf("\ninference (onnxruntime %s, %s, %s):", r.Bench.ORTVersion, r.Bench.Provider, plural(r.Bench.Threads, "thread"))
		for i, b := range r.Bench.Results {
			sep := ";"
			if i == len(r.Bench.Results)-1 {
				sep = ""
			}
			ew.printf(" batch %d: p50 %.2f ms, %.0f images/s%s", b.Batch, b.LatencyMS.P50, b.ImagesPerS, sep)
		}
		ew.printf("\n  (%s; the full report: %s)\n", r.BenchModel, r.BenchJSON)
	}
	ew.printf("\nfiles in %s:\n", r.Out)
	ew.printf("  %s, %s  the table with the times; a bar chart\n", filepath.Join(r.Out, experiment.ResultsFile), filepath.Join(r.Out, experiment.ChartFile))
	for _, l := range lines {
		ew.printf("  %s × %s:\n", l.Pretraining, l.Head)
		ew.printf("    %s  exported model (ONNX, dynamic batch and size)\n", filepath.Join(l.Cell, "model.onnx"))
		ew.printf("    %s  fine-tuning loss, learning rate and val mIoU\n", filepath.Join(l.Cell, "curves.png"))
		ew.printf("    %s  image | ground truth | prediction\n", filepath.Join(l.Cell, "overlays")+string(filepath.Separator))
	}
	var stages []string
	for _, s := range r.Experiment.Plan.Stages {
		stages = append(stages, filepath.Join(r.Out, s.Dir, "curves.png"))
	}
	if len(stages) > 0 {
		ew.printf("  pre-training curves: %s\n", strings.Join(stages, ", "))
		ew.printf("  pre-trained encoders: encoder.onnx beside them\n")
	}
	return ew.err
}

// writeTable prints rows as a Markdown table with padded columns.
func writeTable(ew *errWriter, rows [][]string) {
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	line := func(cells []string) {
		ew.printf("|")
		for i, c := range cells {
			ew.printf(" %s%s |", c, strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)))
		}
		ew.printf("\n")
	}
	line(rows[0])
	sep := make([]string, len(widths))
	for i, wd := range widths {
		sep[i] = strings.Repeat("-", wd)
	}
	line(sep)
	for _, r := range rows[1:] {
		line(r)
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// errWriter keeps the first write error (image/png's sticky error).
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err == nil {
		_, e.err = fmt.Fprintf(e.w, format, args...)
	}
}
