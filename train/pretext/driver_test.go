package pretext

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/optim"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// driver runs a Task the way the training engine does (train.Task's call order): Build,
// then for every step Bind → forward + backward → SGD → AfterStep. Tests use it so that
// they do not depend on the engine.
type driver struct {
	t      testing.TB
	task   train.Task
	loader *data.Loader
	vm     G.VM
	opt    *optim.SGD
	params []*optim.Param
	nodes  []*G.Node
	lr     float64
	step   int

	monitor  bool               // call the task's Monitors after each pass, into monitors
	monitors [][]runlog.Monitor // one list per step
}

// tinyData is 64 images of 48×48 that a tiny network can tell apart and whose turns it can
// see, because like photos they have an up: light at the top fading to dark (±20°),
// a few rectangles and an upright L-shaped glyph. (data's synthetic scenes are discs,
// squares, rings and crosses in any place, which look the same turned by 90°, so PLR would
// have nothing to learn on them.)
func tinyData(testing.TB) data.Dataset { return oriented{n: 64, size: 48} }

type oriented struct{ n, size int }

func (o oriented) Name() string          { return "oriented test images" }
func (o oriented) Len() int              { return o.n }
func (o oriented) Classes() []string     { return nil }
func (o oriented) Palette() []color.RGBA { return nil }

func (o oriented) Load(i int) (data.Sample, error) {
	r := rand.New(rand.NewPCG(uint64(i), 7))
	s := o.size
	img := data.NewImage(s, s)
	var c0, c1 [3]float32
	for c := range c0 {
		c0[c], c1[c] = 150+105*r.Float32(), 100*r.Float32() // light above, dark below
	}
	a := math.Pi/2 + (r.Float64()-0.5)*math.Pi*2/9
	dx, dy := math.Cos(a), math.Sin(a)
	fill := func(x0, y0, x1, y1 int, col [3]float32) {
		for y := max(y0, 0); y < min(y1, s); y++ {
			for x := max(x0, 0); x < min(x1, s); x++ {
				for c := 0; c < 3; c++ {
					img.Plane(c)[y*s+x] = col[c]
				}
			}
		}
	}
	for y := 0; y < s; y++ {
		for x := 0; x < s; x++ {
			t := float32(0.5 + ((float64(x)-float64(s)/2)*dx+(float64(y)-float64(s)/2)*dy)/float64(s))
			t = min(max(t, 0), 1)
			for c := 0; c < 3; c++ {
				img.Plane(c)[y*s+x] = c0[c]*(1-t) + c1[c]*t
			}
		}
	}
	randCol := func() [3]float32 { return [3]float32{255 * r.Float32(), 255 * r.Float32(), 255 * r.Float32()} }
	for k := 0; k < 3; k++ {
		x, y, w, h := r.IntN(s), r.IntN(s), 4+r.IntN(s/3), 4+r.IntN(s/3)
		fill(x, y, x+w, y+h, randCol())
	}
	// An L: a vertical bar with a foot to the right, thick enough to survive the crops.
	x, y, l := r.IntN(s/2), r.IntN(s/2), s/3+r.IntN(s/4)
	col := randCol()
	fill(x, y, x+4, y+l, col)
	fill(x, y+l-4, x+l*2/3, y+l, col)
	return data.Sample{ID: fmt.Sprint("oriented/", i), Image: img}, nil
}

func newDriver(t testing.TB, task train.Task, batch int, lr float64, seed uint64) *driver {
	t.Helper()
	l, err := data.NewLoader(tinyData(t), task.DataTask(), data.LoaderConfig{Batch: batch, Seed: seed, Shuffle: true, DropLast: true, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	d := buildDriver(t, task, batch, lr)
	d.loader = l
	return d
}

// buildDriver builds task for batches of n and the machine and optimizer around it.
func buildDriver(t testing.TB, task train.Task, batch int, lr float64) *driver {
	t.Helper()
	if err := task.Build(batch); err != nil {
		t.Fatal(err)
	}
	d := &driver{t: t, task: task, lr: lr}
	for _, p := range task.Learnables() {
		d.nodes = append(d.nodes, p.Node)
	}
	if _, err := G.Grad(task.Loss(), d.nodes...); err != nil {
		t.Fatal(err)
	}
	// As the engine does: no BindDualValues, with which Gorgonia adds every run's gradient
	// into the parameters' dual values.
	d.vm = G.NewTapeMachine(task.Graph())
	t.Cleanup(func() { d.vm.Close() })
	for _, p := range task.Learnables() {
		v := p.Node.Value().Data().([]float32)
		d.params = append(d.params, &optim.Param{Name: p.Name, Shape: p.Shape, Value: v, Grad: make([]float32, len(v))})
	}
	var err error
	if d.opt, err = optim.New(d.params, optim.Config{Momentum: 0.9, WeightDecay: 1e-4}, nil); err != nil {
		t.Fatal(err)
	}
	return d
}

// batches draws n batches of the task's data.
func batches(t testing.TB, task train.Task, batch, n int) []*data.Batch {
	t.Helper()
	l, err := data.NewLoader(tinyData(t), task.DataTask(), data.LoaderConfig{Batch: batch, Seed: 3, Shuffle: true, DropLast: true, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out []*data.Batch
	for i := 0; i < n; i++ {
		b, err := l.Next()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// next runs one step on the loader's next batch and returns the loss.
func (d *driver) next() float64 {
	d.t.Helper()
	b, err := d.loader.Next()
	if err != nil {
		d.t.Fatal(err)
	}
	return d.run(b)
}

// run runs one step on batch b.
func (d *driver) run(b *data.Batch) float64 {
	d.t.Helper()
	if err := d.task.Bind(b, d.step); err != nil {
		d.t.Fatal(err)
	}
	d.vm.Reset()
	if err := d.vm.RunAll(); err != nil {
		d.t.Fatal(err)
	}
	loss := scalarValue(d.t, d.task.Loss())
	if d.monitor {
		ms, err := d.task.(train.Monitorer).Monitors()
		if err != nil {
			d.t.Fatal(err)
		}
		d.monitors = append(d.monitors, ms)
	}
	for i, n := range d.nodes {
		g, err := n.Grad()
		if err != nil {
			d.t.Fatal(err)
		}
		d.params[i].Grad = g.Data().([]float32)
		d.params[i].Value = n.Value().Data().([]float32)
	}
	if err := d.opt.Step(d.lr); err != nil {
		d.t.Fatal(err)
	}

	if err := d.task.AfterStep(d.step); err != nil {
		d.t.Fatal(err)
	}
	d.step++
	return loss
}

func scalarValue(t testing.TB, n *G.Node) float64 {
	t.Helper()
	switch v := n.Value().Data().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	case []float32:
		return float64(v[0])
	}
	t.Fatalf("loss %v holds %T", n, n.Value().Data())
	return math.NaN()
}
