package data

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
)

// Position is where a loader is in its stream: the epoch and the offset of the next item in
// that epoch's order. Saving it with a checkpoint and passing it back as LoaderConfig.Start
// gives exactly the batches the interrupted run would have seen.
type Position struct{ Epoch, Index int }

// LoaderConfig configures a Loader. Only Batch is required.
type LoaderConfig struct {
	Batch    int
	Seed     uint64   // order and augmentation
	Shuffle  bool     // a new seeded permutation every epoch
	DropLast bool     // skip an epoch's last, short batch (training)
	Epochs   int      // stop after this many epochs (Next returns io.EOF); 0 = never
	Start    Position // resume point
	Workers  int      // goroutines building batches; 0 = GOMAXPROCS
	Prefetch int      // batches built ahead; 0 = 2·Workers
}

// Tensor is a dense float32 array in row-major order.
type Tensor struct {
	Shape []int
	Data  []float32
}

// Batch is one step's data.
type Batch struct {
	Pos, Next Position // this batch's first item, and where the following batch starts
	Index     []int    // dataset indices of the items
	IDs       []string
	Views     []Tensor     // per view slot: [N, 3, H, W], normalised
	Geoms     [][]Geometry // [view][item]: where each view came from (for CellMatch)
	Labels    *Tensor      // [N, H, W] class ids or turns as float32 (255 = ignore); nil if none
	Full      []*Mask      // SegEval: original-size masks
	Items     []*Item      // the items themselves (records of every step, for previews)
	Skipped   int          // bad samples replaced by others in this batch (Options.SkipBad)
}

// Loader builds batches on worker goroutines, in a fixed order: batch k depends only on the
// seed and its position, never on the number of workers or on timing. Each item's random
// choices come from NewRNG(seed, epoch, dataset index).
type Loader struct {
	ds   Dataset
	task Task
	cfg  LoaderConfig

	pending chan chan result // futures, in batch order
	done    chan struct{}
	wg      sync.WaitGroup
	next    Position
	once    sync.Once
}

type result struct {
	b   *Batch
	err error
}

type job struct {
	pos  Position
	idx  []int // dataset indices
	next Position
	out  chan result
}

// NewLoader starts the workers. Call Close when done.
func NewLoader(ds Dataset, task Task, cfg LoaderConfig) (*Loader, error) {
	if cfg.Batch < 1 {
		return nil, fmt.Errorf("data: loader: batch %d; want at least 1", cfg.Batch)
	}
	n := ds.Len()
	if n < 1 {
		return nil, fmt.Errorf("data: loader: %s is empty", ds.Name())
	}
	if cfg.DropLast && n < cfg.Batch {
		return nil, fmt.Errorf("data: loader: %s has %d samples, fewer than one batch of %d", ds.Name(), n, cfg.Batch)
	}
	if cfg.Start.Epoch < 0 || cfg.Start.Index < 0 || cfg.Start.Index > n {
		return nil, fmt.Errorf("data: loader: start position %+v outside the dataset (%d samples)", cfg.Start, n)
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Prefetch <= 0 {
		cfg.Prefetch = 2 * cfg.Workers
	}
	l := &Loader{ds: ds, task: task, cfg: cfg, next: cfg.Start,
		pending: make(chan chan result, cfg.Prefetch), done: make(chan struct{})}
	jobs := make(chan job)
	l.wg.Add(1 + cfg.Workers)
	go l.schedule(jobs)
	for w := 0; w < cfg.Workers; w++ {
		go func() {
			defer l.wg.Done()
			for j := range jobs {
				b, err := l.build(j)
				j.out <- result{b, err}
			}
		}()
	}
	return l, nil
}

// schedule walks the positions in order, handing out jobs and queueing their futures.
func (l *Loader) schedule(jobs chan<- job) {
	defer l.wg.Done()
	defer close(jobs)
	defer close(l.pending)
	n, B := l.ds.Len(), l.cfg.Batch
	pos := l.cfg.Start
	var order []int
	orderEpoch := -1
	for l.cfg.Epochs == 0 || pos.Epoch < l.cfg.Epochs {
		end := min(pos.Index+B, n)
		if pos.Index >= n || (l.cfg.DropLast && end-pos.Index < B) {
			pos = Position{Epoch: pos.Epoch + 1}
			continue
		}
		if orderEpoch != pos.Epoch {
			order, orderEpoch = l.order(pos.Epoch), pos.Epoch
		}
		next := Position{pos.Epoch, end}
		if end == n || (l.cfg.DropLast && end+B > n) {
			next = Position{Epoch: pos.Epoch + 1}
		}
		j := job{pos: pos, idx: order[pos.Index:end], next: next, out: make(chan result, 1)}
		select {
		case l.pending <- j.out:
		case <-l.done:
			return
		}
		select {
		case jobs <- j:
		case <-l.done:
			return
		}
		pos = next
	}
}

// order is epoch e's sequence of dataset indices.
func (l *Loader) order(epoch int) []int {
	n := l.ds.Len()
	if !l.cfg.Shuffle {
		o := make([]int, n)
		for i := range o {
			o[i] = i
		}
		return o
	}
	return NewRNG(l.cfg.Seed, 0x0de7, uint64(epoch)).Perm(n)
}

// Next returns the next batch in order; io.EOF after the last epoch.
func (l *Loader) Next() (*Batch, error) {
	closed := errors.New("data: loader: Next after Close")
	select {
	case <-l.done: // checked first: after Close, queued futures may never be filled
		return nil, closed
	default:
	}
	var fut chan result
	select {
	case f, ok := <-l.pending:
		if !ok {
			return nil, io.EOF
		}
		fut = f
	case <-l.done:
		return nil, closed
	}
	select {
	case r := <-fut:
		if r.err != nil {
			return nil, r.err
		}
		l.next = r.b.Next
		return r.b, nil
	case <-l.done:
		return nil, closed
	}
}

// Position is where the batch after the last one returned starts (save it to resume).
func (l *Loader) Position() Position { return l.next }

// Close stops the workers and waits for them.
func (l *Loader) Close() {
	l.once.Do(func() {
		close(l.done) // futures have room for their result, so no worker blocks on exit
		l.wg.Wait()
	})
}

// build makes one batch. A sample that fails with ErrSkipped (SkipBad) is replaced by the
// next dataset index, deterministically.
func (l *Loader) build(j job) (*Batch, error) {
	b := &Batch{Pos: j.pos, Next: j.next}
	n := l.ds.Len()
	for _, i := range j.idx {
		var it *Item
		for tries := 0; ; tries++ {
			if tries == n {
				return nil, fmt.Errorf("data: loader: every sample of %s was skipped as bad", l.ds.Name())
			}
			k := (i + tries) % n
			s, err := l.ds.Load(k)
			if errors.Is(err, ErrSkipped) {
				b.Skipped++
				continue
			}
			if err != nil {
				return nil, err
			}
			it, err = l.task.Item(s, l.rng(j.pos.Epoch, k))
			if err != nil {
				return nil, fmt.Errorf("data: %s: %w", s.ID, err)
			}
			b.Index = append(b.Index, k)
			break
		}
		b.IDs = append(b.IDs, it.ID)
		b.Items = append(b.Items, it)
	}
	return b, collate(b)
}

func (l *Loader) rng(epoch, index int) *rand.Rand {
	return NewRNG(l.cfg.Seed, uint64(epoch), uint64(index))
}

// collate stacks the items' views and labels into NCHW / NHW tensors.
func collate(b *Batch) error {
	first := b.Items[0]
	N := len(b.Items)
	for v := range first.Views {
		w, h := first.Views[v].Image.W, first.Views[v].Image.H
		t := Tensor{Shape: []int{N, 3, h, w}, Data: make([]float32, N*3*h*w)}
		geoms := make([]Geometry, N)
		for i, it := range b.Items {
			if len(it.Views) != len(first.Views) {
				return fmt.Errorf("data: batch: %s has %d views, %s has %d", it.ID, len(it.Views), first.ID, len(first.Views))
			}
			img := it.Views[v].Image
			if img.W != w || img.H != h {
				return fmt.Errorf("data: batch: view %d of %s is %dx%d, of %s %dx%d; images of different sizes need batch 1 or a resize", v, it.ID, img.W, img.H, first.ID, w, h)
			}
			copy(t.Data[i*3*h*w:], img.Pix)
			geoms[i] = it.Views[v].Geom
		}
		b.Views = append(b.Views, t)
		b.Geoms = append(b.Geoms, geoms)
	}
	if first.Labels != nil {
		w, h := first.Labels.W, first.Labels.H
		t := &Tensor{Shape: []int{N, h, w}, Data: make([]float32, N*h*w)}
		for i, it := range b.Items {
			if it.Labels == nil || it.Labels.W != w || it.Labels.H != h {
				return fmt.Errorf("data: batch: labels of %s do not match those of %s (%dx%d)", it.ID, first.ID, w, h)
			}
			for k, v := range it.Labels.Pix {
				t.Data[i*h*w+k] = float32(v)
			}
		}
		b.Labels = t
	}
	for _, it := range b.Items {
		if it.Full != nil {
			b.Full = append(b.Full, it.Full)
		}
	}
	return nil
}
