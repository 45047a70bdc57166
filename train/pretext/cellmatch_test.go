package pretext

import (
	"math"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
)

// Two 64×64 views of a 64×64 source on a 4×4 grid (8 source pixels per cell in both):
// view 1 is the box [0,32)², view 2 the box [16,48)² mirrored. The view-1 cells whose
// centres (x, y ∈ {20, 28}) lie in view 2 are cells (2,2), (2,3), (3,2), (3,3); mirrored,
// x = 20 lands in view-2 column ⌊(48−20)/8⌋ = 3 and x = 28 in column 2, and y = 20, 28 in
// rows 0 and 1. Image 1 is two identical views: every cell matches itself.
var (
	grid4   = data.Grid{H: 4, W: 4}
	pairsG1 = []data.Geometry{
		data.FromBox(data.Box{X0: 0, Y0: 0, X1: 32, Y1: 32}, false, 64, 64, 64, 64),
		data.FromBox(data.Box{X0: 8, Y0: 8, X1: 56, Y1: 56}, false, 64, 64, 64, 64),
	}
	pairsG2 = []data.Geometry{
		data.FromBox(data.Box{X0: 16, Y0: 16, X1: 48, Y1: 48}, true, 64, 64, 64, 64),
		data.FromBox(data.Box{X0: 8, Y0: 8, X1: 56, Y1: 56}, false, 64, 64, 64, 64),
	}
)

// wantPairs is the table of positives the geometry above says: query row → key row.
func wantPairs() []float32 {
	want := make([]float32, 32)
	for i := range want {
		want[i] = -1
	}
	want[2*4+2], want[2*4+3], want[3*4+2], want[3*4+3] = 0*4+3, 0*4+2, 1*4+3, 1*4+2
	for c := 0; c < 16; c++ {
		want[16+c] = float32(16 + c)
	}
	return want
}

func TestMatchLabelsFollowTheGeometry(t *testing.T) {
	got, err := matchLabels(pairsG1, pairsG2, grid4)
	if err != nil {
		t.Fatal(err)
	}
	if want := wantPairs(); !slices.Equal(got, want) {
		t.Errorf("positives\n got %v\nwant %v", got, want)
	}
	if _, err := matchLabels(pairsG1, pairsG2[:1], grid4); err == nil {
		t.Error("2 view-1 geometries with 1 view-2 one accepted")
	}
}

// Through the task: Bind binds exactly that table, and the loss the graph computes is the
// dense InfoNCE of those pairs, recomputed here from the query network's dense map and the
// bound key rows.
func TestPLMoCoUsesTheGeometrysPositives(t *testing.T) {
	c := PLMoCoDefaults(CPU)
	c.DenseDim, c.DenseQueue, c.KeyChunks = 8, 8, 1
	task, err := NewPLMoCo(Options{Net: Net{Encoder: graphs.ResNet18, Width: 0.0625, OutputStride: 16}, Size: 64, Seed: 1}, c)
	if err != nil {
		t.Fatal(err)
	}
	if err := task.Build(2); err != nil {
		t.Fatal(err)
	}
	if task.Grid() != grid4 {
		t.Fatalf("grid %v, want %v", task.Grid(), grid4)
	}
	b := &data.Batch{
		Views: []data.Tensor{{Shape: []int{2, 3, 64, 64}, Data: randImages(5, 2, 64)}, {Shape: []int{2, 3, 64, 64}, Data: randImages(6, 2, 64)}},
		Geoms: [][]data.Geometry{pairsG1, pairsG2},
	}
	if err := task.Bind(b, 0); err != nil {
		t.Fatal(err)
	}
	if got := task.labels.Value().Data().([]float32); !slices.Equal(got, wantPairs()) {
		t.Fatalf("bound positives\n got %v\nwant %v", got, wantPairs())
	}
	vm := G.NewTapeMachine(task.Graph())
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	dense, _ := task.online.Output(graphs.DenseProjection)
	qv := dense.Value().Data().([]float32)
	keys := task.keysIn.Value().Data().([]float32)
	d, hw, rows := c.DenseDim, 16, len(keys)/c.DenseDim
	q := make([]float32, 2*hw*d)
	for i := 0; i < 2; i++ {
		cellsOf(q[i*hw*d:(i+1)*hw*d], qv[i*d*hw:(i+1)*d*hw], d, hw)
	}
	var total float64
	var count int
	for row, pos := range wantPairs() {
		if pos < 0 {
			continue
		}
		logits := make([]float64, rows)
		for r := 0; r < rows; r++ {
			var s float64
			for k := 0; k < d; k++ {
				s += float64(q[row*d+k]) * float64(keys[r*d+k])
			}
			logits[r] = s / c.Temperature
		}
		total += logSumExp(logits) - logits[int(pos)]
		count++
	}
	want := total / float64(count)
	if got := scalarValue(t, task.Loss()); math.Abs(got-want) > 1e-4 {
		t.Errorf("loss %v, want %v from the geometry's %d pairs", got, want, count)
	}
	// The key rows behind the batch's cells are the dense queue.
	if !slices.Equal(keys[2*hw*d:], task.dqueue.Data) {
		t.Error("the rows after the batch's key cells are not the dense queue")
	}
}
