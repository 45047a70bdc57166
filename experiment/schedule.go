package experiment

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sync"
)

// job is one stage or cell of a plan, numbered in the order Run visits them: each cell after
// the stages of its chain, every stage once.
type job struct {
	n     int // 1-based, as the headers number them
	stage *Stage
	cell  *Cell
	probe *Probe
	deps  []*job // jobs whose outputs this one reads: the parent stage, the chain's last stage
	ok    bool   // finished without error
}

// jobs lists the plan's stages and cells in visiting order with their dependencies.
func (p *Plan) jobs() []*job {
	var js []*job
	byStage := map[*Stage]*job{}
	add := func(j *job) *job {
		j.n = len(js) + 1
		js = append(js, j)
		return j
	}
	stages := func(chain []*Stage) []*job {
		for _, st := range chain {
			if byStage[st] != nil {
				continue
			}
			j := &job{stage: st}
			if st.Parent != nil {
				j.deps = append(j.deps, byStage[st.Parent])
			}
			byStage[st] = add(j)
		}
		if n := len(chain); n > 0 {
			return []*job{byStage[chain[n-1]]}
		}
		return nil
	}
	// A row's probes at a seed come right after its cells (or its stages when it has none).
	probes := map[string][]*Probe{}
	for _, pr := range p.Probes {
		k := fmt.Sprintf("%s\x00%d", pr.Row, pr.Seed)
		probes[k] = append(probes[k], pr)
	}
	for i, c := range p.Cells {
		add(&job{cell: c, deps: stages(c.Stages)})
		if next := i + 1; next == len(p.Cells) || p.Cells[next].Row != c.Row || p.Cells[next].Seed != c.Seed {
			k := fmt.Sprintf("%s\x00%d", c.Row, c.Seed)
			for _, pr := range probes[k] {
				add(&job{probe: pr, deps: stages(pr.Stages)})
			}
			delete(probes, k)
		}
	}
	for _, pr := range p.Probes { // rows with probes and no heads
		if _, ok := probes[fmt.Sprintf("%s\x00%d", pr.Row, pr.Seed)]; ok {
			add(&job{probe: pr, deps: stages(pr.Stages)})
		}
	}
	return js
}

// ready reports whether every job j depends on has finished without error.
func (j *job) ready() bool {
	for _, d := range j.deps {
		if !d.ok {
			return false
		}
	}
	return true
}

// schedule runs the jobs, at most n at once, each as soon as the jobs it depends on have
// finished: the earliest ready one first, so that with n = 1 they run in visiting order.
// After the first error no job is started and ctx is cancelled for the ones running (the
// engine stops each after its current step with a checkpoint); schedule returns that error.
//
// Why more than one: at the demo's sizes a training run keeps about one core busy (most ops
// are too small to split, and the data loader needs a fraction of another), so on two cores
// the fine-tuning of one row can run beside the pre-training of the next instead of
// leaving a core idle. Every run's result depends only on its own seed and inputs (the
// loader's order and the ops' splits are fixed by shape, not by timing or GOMAXPROCS), so
// running them side by side changes no weight.
func schedule(ctx context.Context, js []*job, n int, run func(ctx context.Context, j *job) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		j   *job
		err error
	}
	finished := make(chan result)
	todo := append([]*job(nil), js...)
	running := 0
	var first error
	for {
		for first == nil && running < max(n, 1) {
			i := -1
			for k, j := range todo {
				if j.ready() {
					i = k
					break
				}
			}
			if i < 0 {
				break
			}
			j := todo[i]
			todo = append(todo[:i], todo[i+1:]...)
			running++
			go func() { finished <- result{j, run(ctx, j)} }()
		}
		if running == 0 {
			return first
		}
		r := <-finished
		running--
		if r.err != nil {
			if first == nil {
				first = r.err
				cancel()
			}
			continue
		}
		r.j.ok = true
	}
}

// orderedLog is the experiment's log shared by jobs that run at once. A job's output appears
// after the output of every job numbered before it, whole, as if the jobs had run one after
// another: the earliest unfinished job writes straight through, the others are held in
// memory until their turn (the progress of such a job is then plain lines, not a redrawn
// bar).
type orderedLog struct {
	mu   sync.Mutex
	out  io.Writer
	live int // the job whose output goes straight to out (1-based)
	logs map[int]*jobLog
}

func newOrderedLog(out io.Writer) *orderedLog {
	return &orderedLog{out: out, live: 1, logs: map[int]*jobLog{}}
}

// writer is job n's log. While n is live and the log is a file (a terminal), it is the file
// itself, so that progress bars still redraw: nothing else writes to it until job n is done.
func (l *orderedLog) writer(n int) io.Writer {
	l.mu.Lock()
	defer l.mu.Unlock()
	j := &jobLog{l: l, n: n}
	l.logs[n] = j
	if _, isFile := l.out.(*os.File); isFile && n == l.live {
		return l.out
	}
	return j
}

// done marks job n finished; when it was live, the next jobs' held output is written and the
// first unfinished one among them becomes live.
func (l *orderedLog) done(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if j := l.logs[n]; j != nil {
		j.finished = true
	}
	for {
		j := l.logs[l.live]
		if j == nil || !j.finished {
			return
		}
		l.live++
		if next := l.logs[l.live]; next != nil {
			l.out.Write(next.buf.Bytes())
			next.buf = bytes.Buffer{}
		}
	}
}

// flush writes whatever is still held, in job order (after an error, jobs that never became
// live).
func (l *orderedLog) flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, n := range slices.Sorted(maps.Keys(l.logs)) {
		if j := l.logs[n]; j.buf.Len() > 0 {
			l.out.Write(j.buf.Bytes())
			j.buf = bytes.Buffer{}
		}
	}
}

type jobLog struct {
	l        *orderedLog
	n        int
	buf      bytes.Buffer
	finished bool
}

func (j *jobLog) Write(p []byte) (int, error) {
	j.l.mu.Lock()
	defer j.l.mu.Unlock()
	if j.n == j.l.live {
		return j.l.out.Write(p)
	}
	return j.buf.Write(p)
}
