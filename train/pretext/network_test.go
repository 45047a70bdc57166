package pretext

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx/importer"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/ops"
)

func tinyModel(t *testing.T, pt graphs.Pretext, outs ...string) *pb.ModelProto {
	t.Helper()
	mp, err := graphs.Build(graphs.Spec{Encoder: graphs.ResNet18, Width: 0.0625, OutputStride: 16, Pretext: pt, Seed: 3, Outputs: outs})
	if err != nil {
		t.Fatal(err)
	}
	return mp
}

func randImages(seed uint64, n, size int) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	v := make([]float32, n*3*size*size)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func maxDiff(a, b []float32) float64 {
	var m float64
	for i := range a {
		m = math.Max(m, math.Abs(float64(a[i])-float64(b[i])))
	}
	return m
}

// Images go in shuffled and come out in the batch's order: with one chunk the BatchNorm
// statistics cover the same images whatever the order, so the result must not change.
func TestKeyNetUnshuffles(t *testing.T) {
	mp := tinyModel(t, graphs.Pretext{Projector: graphs.ProjectorMoCoV2, Dim: 8}, graphs.Projection)
	const n, size = 6, 32
	imgs := randImages(1, n, size)
	k, err := newKeyNet(mp, n, size, graphs.Projection)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := k.encode(imgs, nil)
	if err != nil {
		t.Fatal(err)
	}
	perm := []int{3, 0, 5, 1, 4, 2}
	shuffled, err := k.encode(imgs, perm)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(plain[0], shuffled[0]); d > 1e-5 {
		t.Errorf("shuffled keys differ from plain ones by %g", d)
	}
	// In three chunks each chunk has its own statistics: the keys change (Shuffle BN).
	k3, err := newKeyNet(mp, n/3, size, graphs.Projection)
	if err != nil {
		t.Fatal(err)
	}
	chunked, err := k3.encode(imgs, perm)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxDiff(plain[0], chunked[0]); d < 1e-3 {
		t.Errorf("keys from chunks of 2 equal the whole-batch keys (max diff %g): BatchNorm statistics are not per chunk", d)
	}
	// Image 3 and 0 formed chunk 0: encoding exactly that pair reproduces their keys.
	pair := append(slices.Clone(imgs[3*3*size*size:4*3*size*size]), imgs[:3*size*size]...)
	got, err := k3.encode(pair, nil)
	if err != nil {
		t.Fatal(err)
	}
	d := len(chunked[0]) / n
	want := append(slices.Clone(chunked[0][3*d:4*d]), chunked[0][:d]...)
	if diff := maxDiff(got[0], want); diff > 1e-6 {
		t.Errorf("chunk {3, 0} re-encoded differs by %g", diff)
	}
	if _, err := k3.encode(imgs[:5*3*size*size], nil); err == nil {
		t.Error("5 images in chunks of 2 accepted")
	}
}

// A twin import shares the parameters and computes what one network run on the second
// view computes, and after the merge the running statistics are those of one module called
// on view 1 and then on view 2.
func TestTwinMatchesSequentialCalls(t *testing.T) {
	mp := tinyModel(t, graphs.Pretext{Projector: graphs.ProjectorSimSiam, Dim: 16}, graphs.Projection)
	const n, size = 4, 32
	v1, v2 := randImages(2, n, size), randImages(3, n, size)

	online, err := importTrained(mp, n, size)
	if err != nil {
		t.Fatal(err)
	}
	twin, merge, err := importTwin(mp, online, n, size)
	if err != nil {
		t.Fatal(err)
	}
	if ps := twin.Params(); len(ps) != 0 {
		t.Fatalf("the twin has %d parameters of its own (e.g. %s), want all shared", len(ps), ps[0].Name)
	}
	for _, p := range []struct {
		m *importer.Model
		v []float32
	}{{online, v1}, {twin, v2}} {
		in, _ := p.m.Input(graphs.Input)
		if err := bind(in, p.v); err != nil {
			t.Fatal(err)
		}
	}
	z2, _ := twin.Output(graphs.Projection)
	vm := G.NewTapeMachine(online.Graph)
	defer vm.Close()
	merge.before()
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	merge.after()
	gotZ2 := slices.Clone(z2.Value().Data().([]float32))

	ref, err := importer.Import(mp, importer.Options{InputShapes: map[string][]int{"input": {n, 3, size, size}}, Phase: &ops.Phase{Training: true}})
	if err != nil {
		t.Fatal(err)
	}
	rin, _ := ref.Input(graphs.Input)
	rz, _ := ref.Output(graphs.Projection)
	rvm := G.NewTapeMachine(ref.Graph)
	defer rvm.Close()
	for _, v := range [][]float32{v1, v2} {
		bind(rin, v)
		rvm.Reset()
		if err := rvm.RunAll(); err != nil {
			t.Fatal(err)
		}
	}
	if d := maxDiff(gotZ2, rz.Value().Data().([]float32)); d > 1e-5 {
		t.Errorf("twin's projection of view 2 differs from the network's by %g", d)
	}
	for i, bn := range online.BatchNorms() {
		rb := ref.BatchNorms()[i]
		for _, c := range []struct{ got, want []float32 }{
			{bn.State.Mean.Data().([]float32), rb.State.Mean.Data().([]float32)},
			{bn.State.Var.Data().([]float32), rb.State.Var.Data().([]float32)},
		} {
			if d := maxDiff(c.got, c.want); d > 1e-5 {
				t.Fatalf("%s: merged running statistics differ from two sequential calls by %g", bn.Node, d)
			}
		}
	}
}
