package data

import (
	"io"
	"slices"
	"testing"
)

func collect(t *testing.T, ds Dataset, task Task, cfg LoaderConfig, n int) []*Batch {
	t.Helper()
	l, err := NewLoader(ds, task, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out []*Batch
	for len(out) < n {
		b, err := l.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func sameBatches(a, b []*Batch) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if !slices.Equal(x.Index, y.Index) || x.Pos != y.Pos || x.Next != y.Next || len(x.Views) != len(y.Views) {
			return false
		}
		for v := range x.Views {
			if !slices.Equal(x.Views[v].Data, y.Views[v].Data) || !slices.Equal(x.Geoms[v], y.Geoms[v]) {
				return false
			}
		}
		if (x.Labels == nil) != (y.Labels == nil) || (x.Labels != nil && !slices.Equal(x.Labels.Data, y.Labels.Data)) {
			return false
		}
	}
	return true
}

func synth(t *testing.T, spec string) Dataset {
	t.Helper()
	ds, err := Open(spec, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestLoaderDeterministic: the same seed gives identical batches (views, labels, geometry,
// order) with 1 or 3 workers and any prefetch; another seed gives other batches.
func TestLoaderDeterministic(t *testing.T) {
	ds := synth(t, "synthetic:n=24,size=32")
	tasks := map[string]Task{"seg": DefaultSegTrain(32), "pretext": MoCoV2(24), "plr": DefaultPLR(32)}
	for name, task := range tasks {
		cfg := LoaderConfig{Batch: 5, Seed: 9, Shuffle: true, DropLast: true, Workers: 1, Prefetch: 1}
		one := collect(t, ds, task, cfg, 8) // 4 batches per epoch: two epochs
		cfg.Workers, cfg.Prefetch = 3, 5
		three := collect(t, ds, task, cfg, 8)
		if len(one) != 8 || !sameBatches(one, three) {
			t.Fatalf("%s: 1 worker and 3 workers give different batches", name)
		}
		cfg.Seed = 10
		if other := collect(t, ds, task, cfg, 8); sameBatches(one, other) {
			t.Fatalf("%s: seeds 9 and 10 give the same batches", name)
		}
		if slices.Equal(one[0].Index, one[4].Index) {
			t.Fatalf("%s: epochs 0 and 1 have the same order %v", name, one[0].Index)
		}
	}
}

// TestLoaderResume: a loader started at a saved Position yields exactly the batches the
// first one went on to produce, across an epoch boundary.
func TestLoaderResume(t *testing.T) {
	ds := synth(t, "synthetic:n=22,size=32")
	cfg := LoaderConfig{Batch: 4, Seed: 3, Shuffle: true, DropLast: true, Workers: 2}
	all := collect(t, ds, MoCoV2(16), cfg, 9) // 5 batches per epoch
	if all[4].Next != (Position{1, 0}) || all[3].Next != (Position{0, 16}) {
		t.Fatalf("positions: batch 3 next %+v, batch 4 next %+v", all[3].Next, all[4].Next)
	}
	cfg.Start = all[2].Next
	rest := collect(t, ds, MoCoV2(16), cfg, 6)
	if !sameBatches(all[3:], rest) {
		t.Fatal("resumed loader differs from the original run")
	}
}

// TestLoaderEpochs covers an unshuffled single epoch with a short last batch, SegEval's
// full masks, and io.EOF at the end.
func TestLoaderEpochs(t *testing.T) {
	ds := synth(t, "synthetic:n=5,val=7,size=32")
	bs := collect(t, ds, DefaultSegEval(), LoaderConfig{Batch: 2, Epochs: 1}, 100)
	if len(bs) != 3 || len(bs[2].IDs) != 1 || bs[2].Index[0] != 4 {
		t.Fatalf("got %d batches (last %v), want 3 with the last holding sample 4", len(bs), bs[len(bs)-1].Index)
	}
	b := bs[0]
	if got := b.Views[0].Shape; !slices.Equal(got, []int{2, 3, 32, 32}) || !slices.Equal(b.Labels.Shape, []int{2, 32, 32}) || len(b.Full) != 2 {
		t.Fatalf("shapes: views %v labels %v full %d", got, b.Labels.Shape, len(b.Full))
	}
	s, _ := ds.Load(1)
	for i, v := range s.Mask.Pix {
		if b.Labels.Data[32*32+i] != float32(v) || b.Full[1].Pix[i] != v {
			t.Fatalf("labels of item 1 differ from the mask at %d", i)
		}
	}
	// The image is normalised with ImageNet statistics.
	if got, want := b.Views[0].Data[3*32*32], (s.Image.Pix[0]-ImageNetMean[0])/ImageNetStd[0]; abs32(got-want) > 1e-5 {
		t.Fatalf("normalised pixel %v, want %v", got, want)
	}
	if _, err := NewLoader(ds, DefaultSegEval(), LoaderConfig{Batch: 8, DropLast: true}); err == nil {
		t.Fatal("a batch larger than the dataset with DropLast: no error")
	}
}

func abs32(x float32) float32 { return max(x, -x) }

// TestLoaderClose: closing with batches in flight returns promptly and Next then fails.
func TestLoaderClose(t *testing.T) {
	ds := synth(t, "synthetic:n=64,size=32")
	l, err := NewLoader(ds, MoCoV2(32), LoaderConfig{Batch: 4, Workers: 3, Prefetch: 6})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Next(); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l.Close() // idempotent
	if _, err := l.Next(); err == nil {
		t.Fatal("Next after Close: no error")
	}
}
