package pretext

import (
	"math"
	"testing"
)

// With --match geometry, DenseCL's positives are PLMoCo's crop-box cells: a step's labels
// skip exactly the cells matchLabels leaves unmatched, each matched cell's positive is the
// key cell matchLabels names, and the dense loss is the mean over the matched cells only.
// After the step, one pooled dense key per image has joined the dense queue, a unit vector.
func TestDenseCLGeometryMatch(t *testing.T) {
	const n, size = 4, 32
	c := tinyConfig(t, "densecl").(*DenseCLConfig)
	c.Match = MatchGeometry
	task, err := NewDenseCL(tinyOptions(size), *c)
	if err != nil {
		t.Fatal(err)
	}
	bs := batches(t, task, n, 1)
	d := buildDriver(t, task, n, 0.05)
	if loss := d.run(bs[0]); math.IsNaN(loss) {
		t.Fatal("loss NaN")
	}
	want, err := matchLabels(bs[0].Geoms[0], bs[0].Geoms[1], task.Grid())
	if err != nil {
		t.Fatal(err)
	}
	hw := task.Grid().H * task.Grid().W
	skipped := 0
	for i, w := range want {
		if (w < 0) != (task.lab[i] == ignoreLabel) {
			t.Fatalf("cell %d: label %v, matchLabels %v", i, task.lab[i], w)
		}
		if w >= 0 && task.match[i] != int(w)-(i/hw)*hw {
			t.Fatalf("cell %d: positive %d within its image, matchLabels row %v", i, task.match[i], w)
		}
		if w < 0 {
			skipped++
		}
	}
	t.Logf("%d of %d cells without a positive", skipped, len(want))
	q := task.dqueue.Data
	d0 := c.DenseDim
	for i := 0; i < n; i++ {
		row := q[(task.dqueue.Ptr-n+i)*d0 : (task.dqueue.Ptr-n+i+1)*d0]
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		if math.Abs(s-1) > 1e-5 {
			t.Errorf("enqueued dense key %d has norm² %v, want 1", i, s)
		}
		for k := range row {
			if row[k] != task.dkeys[i*d0+k] {
				t.Fatalf("dense queue row %d is not the step's pooled key of image %d", task.dqueue.Ptr-n+i, i)
			}
		}
	}
}
