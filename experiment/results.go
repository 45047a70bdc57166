package experiment

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Files Run writes at the top of the experiment folder.
const (
	ResultsFile = "results.md"
	ChartFile   = "results.png"
)

// Table is the results of a plan's finished cells: the seed's table (pre-training | epochs |
// head | mIoU | note) with every seed's value and the time each row took.
type Table struct {
	Title   string
	Data    string
	Seeds   []uint64
	Heads   []string // the grid's heads, then its probes' columns (protocolColumn)
	Probes  []string // the probe columns among Heads
	Classes []string // the val split's class names (from a finished cell's eval.json), for ClassIoU
	Rows    []TableRow
	Skipped []Skipped
	Pending int // planned cells without a completion record
	// StagesDone and StagesS are the finished pre-training stages and their training time,
	// each stage once.
	StagesDone int
	StagesS    float64
}

// TableRow is one pre-training row.
type TableRow struct {
	Name    string
	From    string   // the row it continues (Row.From)
	Against []string // further rows it is compared with (Row.Against)
	Epochs  string   // per stage, "20 + 10"; "—" for no pre-training
	Note    string
	Shared  []string // stages this row shares with other rows ("moco (with MoCo + PLR)")
	// PretrainS is the row's pre-training time per seed (its stages' training time, shared
	// stages counted in full), averaged over the seeds whose stages finished.
	PretrainS float64
	// Monitors are the row's own pre-training stages' curves (not those of the row it
	// continues): how each loss and health number moved, averaged over seeds.
	Monitors []StageMonitor
	Cells    []TableCell // by head, in Table.Heads order
}

// TableCell is one row × head: mIoU per seed and their summary.
type TableCell struct {
	Head   string
	MIoU   []float64 // by seed, in Table.Seeds order; NaN: not finished
	Folder []string  // by seed: the cell folder relative to the experiment folder
	N      int       // finished seeds
	Mean   float64   // over finished seeds (NaN when none)
	Std    float64   // sample standard deviation (n−1); NaN for n < 2
	TrainS float64   // mean fine-tuning + export + evaluation time per seed
	// ClassIoU is each class's IoU averaged over the finished seeds (a class with no defined
	// IoU in a seed is left out of that seed), in Table.Classes order.
	ClassIoU []float64
	classSum []float64
	classN   []int
}

// Collect reads the completion records of the plan's stages and cells under out.
func Collect(p *Plan, out string) (*Table, error) {
	g := p.Grid
	t := &Table{Title: g.Title, Data: g.Data, Seeds: g.Seeds, Skipped: p.Skipped}
	for _, h := range g.Heads {
		t.Heads = append(t.Heads, h.Name)
	}
	for _, pr := range g.Eval.Probes {
		t.Heads = append(t.Heads, protocolColumn(pr))
		t.Probes = append(t.Probes, protocolColumn(pr))
	}
	seedIndex := map[uint64]int{}
	for i, s := range g.Seeds {
		seedIndex[s] = i
	}
	stageRec := map[string]*Record{}
	for _, st := range p.Stages {
		rec, err := finished(filepath.Join(out, st.Dir), st.Key)
		if err != nil {
			return nil, err
		}
		stageRec[st.Dir] = rec
		if rec != nil {
			t.StagesDone++
			t.StagesS += rec.TrainS
		}
	}
	rows := map[string]*TableRow{}
	for _, r := range g.Rows {
		if skipped(p, r.Name) {
			continue
		}
		tr := &TableRow{Name: r.Name, From: r.From, Against: r.Against, Note: r.Note, Epochs: "—"}
		for _, h := range t.Heads {
			c := TableCell{Head: h, MIoU: make([]float64, len(g.Seeds)), Folder: make([]string, len(g.Seeds))}
			for i := range c.MIoU {
				c.MIoU[i] = math.NaN()
			}
			tr.Cells = append(tr.Cells, c)
		}
		rows[r.Name] = tr
		t.Rows = append(t.Rows, *tr)
	}
	pre := map[string]map[uint64]float64{} // row → seed → pre-training seconds
	// fill reads one run's record into its table cell at a seed; false: not finished.
	fill := func(cell *TableCell, seed uint64, dir, key string) (bool, error) {
		si := seedIndex[seed]
		cell.Folder[si] = dir
		rec, err := finished(filepath.Join(out, dir), key)
		if err != nil || rec == nil || rec.Scores == nil {
			if err == nil {
				t.Pending++
			}
			return false, err
		}
		cell.MIoU[si] = rec.Scores.MIoU
		cell.TrainS += rec.TotalS
		cell.N++
		cell.addClasses(rec.Scores.IoU)
		return true, nil
	}
	for _, c := range p.Cells {
		tr := rows[c.Row]
		done, err := fill(&tr.Cells[slices.Index(t.Heads, c.Head)], c.Seed, c.Dir, c.Key)
		if err != nil {
			return nil, err
		}
		if !done {
			continue
		}
		// Pre-training: once per row and seed, from the chain's records.
		if _, ok := pre[c.Row][c.Seed]; !ok {
			var total float64
			var epochs []string
			complete := true
			for _, st := range c.Stages {
				sr := stageRec[st.Dir]
				if sr == nil {
					complete = false
					break
				}
				total += sr.TrainS
				epochs = append(epochs, formatEpochs(sr.Epochs))
			}
			if complete {
				if pre[c.Row] == nil {
					pre[c.Row] = map[uint64]float64{}
				}
				pre[c.Row][c.Seed] = total
				if len(epochs) > 0 && tr.Epochs == "—" {
					tr.Epochs = strings.Join(epochs, " + ")
				}
			}
		}
	}
	for _, pr := range p.Probes {
		if _, err := fill(&rows[pr.Row].Cells[slices.Index(t.Heads, protocolColumn(pr.Protocol))], pr.Seed, pr.Dir, pr.Key); err != nil {
			return nil, err
		}
	}
	for _, st := range p.Stages {
		if len(st.Rows) > 1 && st.Seed == g.Seeds[0] {
			for _, name := range st.Rows {
				if tr := rows[name]; tr != nil {
					tr.Shared = append(tr.Shared, fmt.Sprintf("%s stage shared by %s", st.Method, strings.Join(st.Rows, ", ")))
				}
			}
		}
	}
	if err := t.readClasses(p, out); err != nil {
		return nil, err
	}
	for i := range t.Rows {
		tr := rows[t.Rows[i].Name]
		if err := tr.readMonitors(p, out); err != nil {
			return nil, err
		}
		if n := len(pre[tr.Name]); n > 0 {
			for _, s := range pre[tr.Name] {
				tr.PretrainS += s / float64(n)
			}
		}
		for j := range tr.Cells {
			c := &tr.Cells[j]
			c.Mean, c.Std = meanStd(c.MIoU)
			if c.N > 0 {
				c.TrainS /= float64(c.N)
			}
			c.ClassIoU = make([]float64, len(c.classSum))
			for k := range c.classSum {
				c.ClassIoU[k] = math.NaN()
				if c.classN[k] > 0 {
					c.ClassIoU[k] = c.classSum[k] / float64(c.classN[k])
				}
			}
		}
		t.Rows[i] = *tr
	}
	return t, nil
}

func skipped(p *Plan, row string) bool {
	return slices.ContainsFunc(p.Skipped, func(s Skipped) bool { return s.Row == row })
}

// meanStd is the mean and sample standard deviation (n−1) of the finite values.
func meanStd(v []float64) (mean, std float64) {
	var sum float64
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	mean = sum / float64(n)
	if n < 2 {
		return mean, math.NaN()
	}
	var ss float64
	for _, x := range v {
		if !math.IsNaN(x) {
			ss += (x - mean) * (x - mean)
		}
	}
	return mean, math.Sqrt(ss / float64(n-1))
}

// formatEpochs shows passes over the data: whole numbers when near one, else two digits.
func formatEpochs(e float64) string {
	if r := math.Round(e); math.Abs(e-r) < 0.05 {
		return strconv.FormatFloat(r, 'f', 0, 64)
	}
	return strconv.FormatFloat(e, 'g', 2, 64)
}

// Percent formats an mIoU fraction as a percentage with one decimal ("47.3").
func Percent(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(100*v, 'f', 1, 64)
}

// Summary is a cell's "mean ± std (n)" in percent.
func (c TableCell) Summary() string {
	switch {
	case c.N == 0:
		return "—"
	case c.N == 1:
		return Percent(c.Mean) + " (1)"
	}
	return fmt.Sprintf("%s ± %s (%d)", Percent(c.Mean), Percent(c.Std), c.N)
}

// Markdown renders results.md.
func (t *Table) Markdown() string {
	var b strings.Builder
	title := t.Title
	if title == "" {
		title = "Experiment results"
	}
	fmt.Fprintf(&b, "# %s\n\n", title)
	seeds := make([]string, len(t.Seeds))
	for i, s := range t.Seeds {
		seeds[i] = strconv.FormatUint(s, 10)
	}
	fmt.Fprintf(&b, "Fine-tuning and evaluation data: `%s`; seeds %s. mIoU (%%) of each exported model with "+
		"onnxruntime on the val split; mean ± sample standard deviation over the seeds (n = seeds finished).\n\n",
		t.Data, strings.Join(seeds, ", "))
	if len(t.Probes) > 0 {
		fmt.Fprintf(&b, "The %s columns score each row's encoder frozen, without fine-tuning (docs/protocols.md): "+
			"the same val split and mIoU, so they line up with the heads; a row without pre-training is probed at its "+
			"random (or checkpoint) initialisation.\n\n", strings.Join(t.Probes, " and "))
	}
	if t.Pending > 0 {
		fmt.Fprintf(&b, "**Incomplete:** %d planned cells have not finished yet.\n\n", t.Pending)
	}
	b.WriteString("| pre-training | epochs | head | mIoU | note |\n|---|---|---|---|---|\n")
	for _, r := range t.Rows {
		for _, c := range r.Cells {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", r.Name, r.Epochs, c.Head, c.Summary(), cellText(r.Note))
		}
	}
	for _, s := range t.Skipped {
		fmt.Fprintf(&b, "| %s | — | — | — | skipped: %s |\n", s.Row, cellText(s.Reason))
	}
	b.WriteString("\n## Per seed\n\n| pre-training | head |")
	for _, s := range seeds {
		fmt.Fprintf(&b, " seed %s |", s)
	}
	b.WriteString("\n|---|---|" + strings.Repeat("---|", len(seeds)) + "\n")
	for _, r := range t.Rows {
		for _, c := range r.Cells {
			fmt.Fprintf(&b, "| %s | %s |", r.Name, c.Head)
			for _, v := range c.MIoU {
				fmt.Fprintf(&b, " %s |", Percent(v))
			}
			b.WriteString("\n")
		}
	}
	b.WriteString("\n## Time\n\nTraining time from each run's run.json (continued across resumes); fine-tuning " +
		"adds the export and the evaluation. A stage shared by several rows is counted in each.\n\n" +
		"| pre-training | pre-training per seed | head or probe | fine-tuning (or probe) per cell |\n|---|---|---|---|\n")
	for _, r := range t.Rows {
		pre := "—"
		if r.PretrainS > 0 {
			pre = seconds(r.PretrainS)
		}
		for _, c := range r.Cells {
			ft := "—"
			if c.N > 0 {
				ft = seconds(c.TrainS)
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.Name, pre, c.Head, ft)
		}
	}
	if cmp := t.Comparisons(); len(cmp) > 0 {
		b.WriteString("\n## Differences\n\nEach row against the first row and against the row it continues: the difference of " +
			"the mean mIoU (points) and two two-sided t-tests at 5% of whether it exceeds the seed-to-seed spread. " +
			"Welch's treats the rows' seeds as independent samples. The paired test compares seed k with seed k " +
			"(n seeds finished on both sides, n−1 degrees of freedom): a seed fixes the fine-tuning's head " +
			"initialisation, data order and augmentation, so the per-seed differences remove what the seed does to " +
			"both rows. Either needs two seeds. With many rows some 5% tests pass by chance (one in twenty when " +
			"nothing differs): read a yes as a lead to confirm with more seeds, not a finding.\n\n" +
			"The paired column gives the mean per-seed difference with its 95% confidence interval (t with n−1 degrees of freedom), " +
			"then t and n: an interval that excludes 0 is a paired yes.\n\n" +
			"| pre-training | against | head | Δ mIoU | Welch t (df) | paired Δ [95% CI], t (n) | beyond the spread? |\n|---|---|---|---|---|---|---|\n")
		for _, c := range cmp {
			tcol, pcol := "—", "—"
			welchV, pairedV := "—", "—"
			if c.Tested {
				tcol = fmt.Sprintf("%.2f (%.1f)", c.T, c.DF)
				welchV = yesNo(c.Beyond)
			}
			if c.PairedTested {
				pcol = fmt.Sprintf("%s, %.2f (%d)", ciText(c), c.PairedT, c.PairedN)
				pairedV = yesNo(c.PairedBeyond)
			}
			verdict := "Welch " + welchV + ", paired " + pairedV
			if !c.Tested && !c.PairedTested {
				verdict = "— (too few seeds)"
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %+.1f | %s | %s | %s |\n", c.Row, c.Base, c.Head, 100*c.Delta, tcol, pcol, verdict)
		}
	}
	t.classMarkdown(&b)
	t.monitorMarkdown(&b)
	t.protocolTimeMarkdown(&b)
	var shared []string
	seen := map[string]bool{}
	for _, r := range t.Rows {
		for _, s := range r.Shared {
			if !seen[s] {
				seen[s] = true
				shared = append(shared, s)
			}
		}
	}
	if len(shared) > 0 {
		b.WriteString("\nShared pre-training (run once per seed): " + strings.Join(shared, "; ") + ".\n")
	}
	return b.String()
}

// yesNo is a test's verdict in the table: a yes stands out.
func yesNo(beyond bool) string {
	if beyond {
		return "**yes**"
	}
	return "no"
}

// cellText keeps a note inside its table cell.
func cellText(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", "\\|"), "\n", " ")
}
