package demo

import (
	"math"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/bench"
	"github.com/ssl4dp/ssl4dp/experiment"
)

func TestEmbeddedGrids(t *testing.T) {
	for name, src := range map[string][]byte{"demo.toml": Grid, "quick.toml": QuickGrid} {
		g, err := experiment.Parse(src, name)
		if err != nil {
			t.Fatal(err)
		}
		p, err := g.Plan(experiment.PlanOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// MoCo v2 from random init, PLMoCo from its encoder; three cells, the same schedule.
		if len(p.Stages) != 2 || p.Stages[0].Method != "moco" || p.Stages[1].Parent != p.Stages[0] || len(p.Cells) != 3 {
			t.Fatalf("%s: %d stages, %d cells", name, len(p.Stages), len(p.Cells))
		}
		if p.Cells[2].Row != BenchRow {
			t.Errorf("%s: the last row is %q, want %q (benchmarked)", name, p.Cells[2].Row, BenchRow)
		}
		ft := func(c *experiment.Cell) string { return strings.Join(c.Args, " ") }
		if ft(p.Cells[0]) != ft(p.Cells[1]) || ft(p.Cells[1]) != ft(p.Cells[2]) {
			t.Errorf("%s: the cells' fine-tuning differs: %v", name, [][]string{p.Cells[0].Args, p.Cells[2].Args})
		}
	}
}

func TestReport(t *testing.T) {
	cell := func(head string, v float64, dir string) experiment.TableCell {
		return experiment.TableCell{Head: head, MIoU: []float64{v}, Folder: []string{dir}, N: 1, Mean: v, Std: math.NaN()}
	}
	tab := &experiment.Table{Data: "synthetic:classes=3", Seeds: []uint64{1}, Heads: []string{"MoCoFCN"}, Rows: []experiment.TableRow{
		{Name: "RandomInit", Epochs: "—", Cells: []experiment.TableCell{cell("MoCoFCN", 0.41, "cells/randominit/mocofcn/s1-a")}},
		{Name: "MoCo v2", Epochs: "4.7", Cells: []experiment.TableCell{cell("MoCoFCN", 0.4061, "cells/moco-v2/mocofcn/s1-b")}},
		{Name: "MoCo v2 + PLMoCo", Epochs: "4.7 + 2.3", Cells: []experiment.TableCell{cell("MoCoFCN", 0.4312, "cells/moco-v2-plmoco/mocofcn/s1-c")}},
	}}
	res := &Result{Out: "runs/demo", Experiment: &experiment.Result{Table: tab, Plan: &experiment.Plan{Stages: []*experiment.Stage{{Dir: "stages/moco-s1-x"}}}},
		Bench:      &bench.InferReport{ORTVersion: "1.30.0", Provider: "cpu", Threads: 2, Results: []bench.InferResult{{Batch: 1, LatencyMS: bench.Summary{P50: 0.5}, ImagesPerS: 2000}}},
		BenchModel: "runs/demo/cells/moco-v2-plmoco/mocofcn/s1-c/model.onnx", BenchJSON: "runs/demo/bench.json"}
	lines := res.Lines()
	if len(lines) != 3 || lines[0].Note != "" || lines[1].Note != "-0.4 vs RandomInit" || lines[2].Note != "+2.1 vs RandomInit" ||
		lines[2].Cell != "runs/demo/cells/moco-v2-plmoco/mocofcn/s1-c" {
		t.Fatalf("lines %+v", lines)
	}
	var b strings.Builder
	if err := res.WriteReport(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| pre-training     | epochs    | head    | mIoU | note               |\n| ---------------- | --------- | ------- | ---- | ------------------ |\n",
		"| RandomInit       | —         | MoCoFCN | 41.0 |                    |\n",
		"| MoCo v2 + PLMoCo | 4.7 + 2.3 | MoCoFCN | 43.1 | +2.1 vs RandomInit |\n",
		"inference (onnxruntime 1.30.0, cpu, 2 threads): batch 1: p50 0.50 ms, 2000 images/s\n",
		"    runs/demo/cells/moco-v2/mocofcn/s1-b/model.onnx  exported model",
		"  pre-training curves: runs/demo/stages/moco-s1-x/curves.png\n",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, b.String())
		}
	}
}
