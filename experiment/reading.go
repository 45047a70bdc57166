package experiment

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// StageMonitor is how one pre-training stage of a row moved: its loss and its task's
// monitors (top-1 of the positive, rotation accuracy, the std of normalised outputs, …),
// each the mean over the first and over the last MonitorWindow steps, then averaged over
// the seeds whose stage has a metrics.jsonl. It says whether the pretext task was learnt
// at all, which a fine-tuned mIoU cannot.
type StageMonitor struct {
	Method string
	Seeds  int
	Steps  int // of the last seed read
	Series []MonitorSeries
}

// MonitorSeries is one measure's start and end.
type MonitorSeries struct {
	Name        string // "loss" first, then the monitors by name
	First, Last float64
}

// monitorWindow is how many steps each end averages: a tenth of the run, 1 to 50 steps
// (one batch's accuracy is noisy).
func monitorWindow(steps int) int {
	return max(1, min(50, steps/10))
}

// stageCurve reads a stage folder's metrics.jsonl into its series; nil when the file does
// not exist (a stage not run yet, or run by an older version).
func stageCurve(dir string) (steps int, series []MonitorSeries, err error) {
	path := filepath.Join(dir, runlog.FileName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, nil, nil
	}
	lg, err := runlog.ReadFile(path)
	if err != nil {
		return 0, nil, err
	}
	n := len(lg.Train)
	if n == 0 {
		return 0, nil, nil
	}
	w := monitorWindow(n)
	ends := func(get func(runlog.TrainRecord) float64) (first, last float64) {
		mean := func(recs []runlog.TrainRecord) float64 {
			var s float64
			k := 0
			for _, r := range recs {
				if v := get(r); !math.IsNaN(v) && !math.IsInf(v, 0) {
					s += v
					k++
				}
			}
			if k == 0 {
				return math.NaN()
			}
			return s / float64(k)
		}
		return mean(lg.Train[:w]), mean(lg.Train[n-w:])
	}
	f, l := ends(func(r runlog.TrainRecord) float64 { return r.Loss })
	series = append(series, MonitorSeries{Name: "loss", First: f, Last: l})
	var names []string
	for _, r := range lg.Train {
		for k := range r.Monitors {
			if !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	for _, k := range names {
		f, l := ends(func(r runlog.TrainRecord) float64 {
			if v, ok := r.Monitors[k]; ok {
				return v
			}
			return math.NaN()
		})
		series = append(series, MonitorSeries{Name: k, First: f, Last: l})
	}
	return n, series, nil
}

// readMonitors fills the row's Monitors from its own stages' curves, seed by seed.
func (tr *TableRow) readMonitors(p *Plan, out string) error {
	gr := p.Grid.Row(tr.Name)
	if gr == nil || len(gr.Stages) == 0 {
		return nil
	}
	own := len(gr.Stages)
	mons := make([]StageMonitor, own)
	sums := make([]map[string][2]float64, own)
	counts := make([]map[string]int, own)
	order := make([][]string, own)
	for j := range mons {
		mons[j].Method = gr.Stages[j].Method
		sums[j], counts[j] = map[string][2]float64{}, map[string]int{}
	}
	seen := map[uint64]bool{}
	for _, c := range p.Cells {
		if c.Row != tr.Name || seen[c.Seed] || len(c.Stages) < own {
			continue
		}
		seen[c.Seed] = true
		for j, st := range c.Stages[len(c.Stages)-own:] {
			steps, series, err := stageCurve(filepath.Join(out, st.Dir))
			if err != nil {
				return err
			}
			if series == nil {
				continue
			}
			mons[j].Seeds++
			mons[j].Steps = steps
			for _, s := range series {
				if !slices.Contains(order[j], s.Name) {
					order[j] = append(order[j], s.Name)
				}
				if math.IsNaN(s.First) || math.IsNaN(s.Last) {
					continue
				}
				v := sums[j][s.Name]
				sums[j][s.Name] = [2]float64{v[0] + s.First, v[1] + s.Last}
				counts[j][s.Name]++
			}
		}
	}
	tr.Monitors = nil
	for j := range mons {
		if mons[j].Seeds == 0 {
			continue
		}
		for _, name := range order[j] {
			n := counts[j][name]
			if n == 0 {
				continue
			}
			v := sums[j][name]
			mons[j].Series = append(mons[j].Series, MonitorSeries{Name: name, First: v[0] / float64(n), Last: v[1] / float64(n)})
		}
		tr.Monitors = append(tr.Monitors, mons[j])
	}
	return nil
}

// addClasses adds one seed's per-class IoUs to the cell's sums.
func (c *TableCell) addClasses(iou []float64) {
	for len(c.classSum) < len(iou) {
		c.classSum = append(c.classSum, 0)
		c.classN = append(c.classN, 0)
	}
	for k, v := range iou {
		if !math.IsNaN(v) {
			c.classSum[k] += v
			c.classN[k]++
		}
	}
}

// readClasses names the classes from the first finished cell's eval.json.
func (t *Table) readClasses(p *Plan, out string) error {
	for _, c := range p.Cells {
		b, err := os.ReadFile(filepath.Join(out, c.Dir, "eval.json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("experiment: %w", err)
		}
		var ev EvalReport
		if err := json.Unmarshal(b, &ev); err != nil {
			return fmt.Errorf("experiment: %s: %w (delete the cell's folder to redo it)", filepath.Join(out, c.Dir, "eval.json"), err)
		}
		t.Classes = ev.Classes
		return nil
	}
	return nil
}

// ciText is a paired comparison's difference and 95% interval in points: "+1.2 [+0.3, +2.1]".
func ciText(c Comparison) string {
	return fmt.Sprintf("%+.1f [%+.1f, %+.1f]", 100*c.PairedDelta, 100*c.PairedLo, 100*c.PairedHi)
}

// classMarkdown is the per-class IoU section: one line per row and head (or probe), one
// column per class, means over the finished seeds.
func (t *Table) classMarkdown(b *strings.Builder) {
	if len(t.Classes) == 0 {
		return
	}
	b.WriteString("\n## Per-class IoU\n\nIoU (%) of each class on the val split, mean over the finished seeds. " +
		"Predicting background everywhere gives background its pixel share and every other class 0.\n\n| pre-training | head |")
	for _, c := range t.Classes {
		fmt.Fprintf(b, " %s |", cellText(c))
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(t.Classes)) + "\n")
	for _, r := range t.Rows {
		for _, c := range r.Cells {
			if c.N == 0 {
				continue
			}
			fmt.Fprintf(b, "| %s | %s |", r.Name, c.Head)
			for k := range t.Classes {
				v := math.NaN()
				if k < len(c.ClassIoU) {
					v = c.ClassIoU[k]
				}
				fmt.Fprintf(b, " %s |", Percent(v))
			}
			b.WriteString("\n")
		}
	}
}

// monitorMarkdown is the pretext-monitor section: what each row's own stages learnt.
func (t *Table) monitorMarkdown(b *strings.Builder) {
	var lines []string
	for _, r := range t.Rows {
		for _, m := range r.Monitors {
			var parts []string
			for _, s := range m.Series {
				parts = append(parts, fmt.Sprintf("%s %s → %s", s.Name, monitorValue(s.First), monitorValue(s.Last)))
			}
			lines = append(lines, fmt.Sprintf("| %s | %s | %d | %d | %s |", r.Name, m.Method, m.Steps, m.Seeds, strings.Join(parts, "; ")))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "\n## Pretext monitors\n\nEach row's own pre-training stages (a continuation's, not the stage it continues): "+
		"the loss and the task's monitors (docs/methods.md), the mean of the first and of the last tenth of the steps "+
		"(1 to 50 steps each), averaged over the seeds. A loss that does not fall and a top-1 or rotation accuracy "+
		"that does not rise mean the task was not learnt.\n\n"+
		"| pre-training | stage | steps | seeds | first → last |\n|---|---|---|---|---|\n%s\n", strings.Join(lines, "\n"))
}

func monitorValue(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.3g", v)
}

// protocolTimeMarkdown is the time per protocol: each head's and probe's cells summed over
// rows and seeds, and the pre-training stages once each.
func (t *Table) protocolTimeMarkdown(b *strings.Builder) {
	pre, stages := t.StagesS, t.StagesDone
	b.WriteString("\n## Time per protocol\n\nSums over every finished run (each stage once, however many rows share it); " +
		"wall-clock seconds of each run, so runs side by side (--jobs) overlap.\n\n| protocol | runs | mean per run | total |\n|---|---|---|---|\n")
	if stages > 0 {
		fmt.Fprintf(b, "| pre-training stages | %d | %s | %s |\n", stages, seconds(pre/float64(stages)), seconds(pre))
	}
	for h, head := range t.Heads {
		var sum float64
		n := 0
		for _, r := range t.Rows {
			c := r.Cells[h]
			sum += c.TrainS * float64(c.N)
			n += c.N
		}
		if n > 0 {
			fmt.Fprintf(b, "| %s | %d | %s | %s |\n", head, n, seconds(sum/float64(n)), seconds(sum))
		}
	}
}
