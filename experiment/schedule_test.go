package experiment

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssl4dp/ssl4dp/internal/testenv"
	"github.com/ssl4dp/ssl4dp/train"
)

// The jobs of the tiny grid: each cell after its chain, each stage once, with the stages they
// read as dependencies.
func TestJobsFollowThePlan(t *testing.T) {
	p := mustPlan(t, tiny, PlanOptions{})
	js := p.jobs()
	var got []string
	for _, j := range js {
		name := ""
		if j.stage != nil {
			name = j.stage.Method
		} else {
			name = "cell:" + j.cell.Row
		}
		var deps []int
		for _, d := range j.deps {
			deps = append(deps, d.n)
		}
		got = append(got, fmt.Sprintf("%d %s %v", j.n, name, deps))
	}
	want := []string{"1 cell:RandomInit []", "2 moco []", "3 cell:MoCo v2 [2]", "4 plmoco [2]", "5 cell:MoCo + PLMoCo [4]"}
	if !slices.Equal(got, want) {
		t.Fatalf("jobs\n got %q\nwant %q", got, want)
	}
}

// schedule runs at most n jobs at once, none before the jobs it depends on, the earliest
// ready first (so n = 1 is the plan's order); an error starts nothing more, cancels the
// running jobs and is what schedule returns.
func TestSchedule(t *testing.T) {
	mk := func() []*job {
		p := mustPlan(t, tiny, PlanOptions{})
		return p.jobs()
	}
	for _, n := range []int{0, 1, 2, 3} {
		js := mk()
		var mu sync.Mutex
		var order []int
		running, most := 0, 0
		err := schedule(context.Background(), js, n, func(_ context.Context, j *job) error {
			mu.Lock()
			for _, d := range j.deps {
				if !d.ok {
					t.Errorf("n=%d: job %d started before job %d finished", n, j.n, d.n)
				}
			}
			order = append(order, j.n)
			running++
			most = max(most, running)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			running--
			mu.Unlock()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// At the start two jobs are ready (RandomInit's cell and the moco stage).
		if limit := max(n, 1); most > limit || most < min(limit, 2) || len(order) != 5 {
			t.Errorf("n=%d: %d jobs, at most %d at once; want 5, and 2 at once where allowed", n, len(order), most)
		}
		if n <= 1 && !slices.Equal(order, []int{1, 2, 3, 4, 5}) {
			t.Errorf("n=%d: order %v, want the plan's", n, order)
		}
	}

	// Job 2 (moco) fails while job 1 runs: job 1 is cancelled, nothing else starts.
	js := mk()
	boom := errors.New("boom")
	var started []int
	var mu sync.Mutex
	err := schedule(context.Background(), js, 2, func(ctx context.Context, j *job) error {
		mu.Lock()
		started = append(started, j.n)
		mu.Unlock()
		if j.n == 2 {
			return boom
		}
		select {
		case <-ctx.Done():
			return &train.InterruptedError{}
		case <-time.After(10 * time.Second):
			return nil
		}
	})
	if err != boom {
		t.Fatalf("schedule: %v, want the failing job's error", err)
	}
	slices.Sort(started)
	if !slices.Equal(started, []int{1, 2}) {
		t.Errorf("started %v after the error, want only 1 and 2", started)
	}
}

// Jobs writing at once come out whole and in job order; the live job's output is not held.
func TestOrderedLog(t *testing.T) {
	var out bytes.Buffer
	l := newOrderedLog(&out)
	w1, w2, w3 := l.writer(1), l.writer(2), l.writer(3)
	fmt.Fprint(w2, "2a ")
	fmt.Fprint(w1, "1a ")
	fmt.Fprint(w3, "3a ")
	if out.String() != "1a " {
		t.Fatalf("live output %q, want only job 1's", out.String())
	}
	l.done(3)
	fmt.Fprint(w1, "1b ")
	fmt.Fprint(w2, "2b ")
	l.done(1) // job 2 becomes live: its held output first
	if out.String() != "1a 1b 2a 2b " {
		t.Fatalf("after job 1: %q", out.String())
	}
	fmt.Fprint(w2, "2c ")
	l.done(2) // job 3 finished earlier: all of it
	w5 := l.writer(5)
	fmt.Fprint(w5, "5a ")
	l.flush()
	if got, want := out.String(), "1a 1b 2a 2b 2c 3a 5a "; got != want {
		t.Fatalf("log %q, want %q", got, want)
	}
}

// Two jobs at once give the same models, scores and table as one at a time — also when
// stopped while two jobs run and continued — and the log shows every job's output whole, in
// plan order.
func TestJobsGiveTheSameResults(t *testing.T) {
	lib := testenv.ORTLibrary(t)
	p := mustPlan(t, tiny, PlanOptions{})
	const stopped = 3 // two jobs, interrupted when the moco stage's two successors start
	outs := map[int]string{}
	logs := map[int]string{}
	for _, v := range []int{1, 2, stopped} {
		out := t.TempDir()
		var log cancelOn
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		jobs := min(v, 2)
		if v == stopped {
			log.match, log.cancel = "== [3/5]", cancel
			_, err := Run(ctx, p, Options{Out: out, Log: &log, OrtLib: lib, Jobs: jobs})
			var ie *train.InterruptedError
			if !errors.As(err, &ie) {
				t.Fatalf("interrupted run: %v, want *train.InterruptedError\n%s", err, log.buf.String())
			}
			ctx, log = context.Background(), cancelOn{}
		}
		if _, err := Run(ctx, p, Options{Out: out, Log: &log, OrtLib: lib, Jobs: jobs}); err != nil {
			t.Fatalf("run %d: %v\n%s", v, err, log.buf.String())
		}
		outs[v], logs[v] = out, log.buf.String()
	}
	read := func(v int, rel string) []byte {
		b, err := os.ReadFile(filepath.Join(outs[v], rel))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, v := range []int{2, stopped} {
		for _, s := range p.Stages {
			for _, f := range []string{"encoder.onnx", "model.onnx"} {
				if rel := filepath.Join(s.Dir, f); !bytes.Equal(read(1, rel), read(v, rel)) {
					t.Errorf("run %d: %s differs from one job's", v, rel)
				}
			}
			if a, b := losses(t, read(1, filepath.Join(s.Dir, "metrics.jsonl"))), losses(t, read(v, filepath.Join(s.Dir, "metrics.jsonl"))); !slices.Equal(a, b) {
				t.Errorf("run %d: %s: losses %v with one job, %v", v, s.Dir, a, b)
			}
		}
		for _, c := range p.Cells {
			if rel := filepath.Join(c.Dir, "train", "model.onnx"); !bytes.Equal(read(1, rel), read(v, rel)) {
				t.Errorf("run %d: %s differs from one job's", v, rel)
			}
			r1, _ := readRecord(filepath.Join(outs[1], c.Dir))
			r2, _ := readRecord(filepath.Join(outs[v], c.Dir))
			if r1 == nil || r2 == nil || fmt.Sprintf("%+v", *r1.Scores) != fmt.Sprintf("%+v", *r2.Scores) {
				t.Errorf("run %d: %s: scores %+v with one job, %+v", v, c.Dir, r1, r2)
			}
		}
	}
	delete(logs, stopped) // its second log starts with the finished jobs' short notes
	// The log: the same headers in the same order, each followed by its own job's lines: the
	// one line saying that its training is done, naming its folder.
	header := regexp.MustCompile(`== \[(\d)/5\] [^\n]* → ([^\n]*)`)
	done := regexp.MustCompile(`train \w+: done, [^\n]* in ([^\n]*)`)
	for jobs, log := range logs {
		hs := header.FindAllStringSubmatch(log, -1)
		if len(hs) != 5 {
			t.Fatalf("jobs %d: %d headers\n%s", jobs, len(hs), log)
		}
		blocks := header.Split(log, -1)[1:]
		for i, h := range hs {
			if h[1] != fmt.Sprint(i+1) {
				t.Errorf("jobs %d: header %d is [%s/5]", jobs, i+1, h[1])
			}
			ds := done.FindAllStringSubmatch(blocks[i], -1)
			if len(ds) != 1 || !strings.HasPrefix(ds[0][1], h[2]) {
				t.Errorf("jobs %d: the output under %s says %q", jobs, h[2], ds)
			}
		}
	}
}

// losses are the training records' losses of a metrics.jsonl, as written.
func losses(t *testing.T, b []byte) []string {
	t.Helper()
	re := regexp.MustCompile(`"loss":([^,}]*)`)
	var out []string
	for _, m := range re.FindAllSubmatch(b, -1) {
		out = append(out, string(m[1]))
	}
	if len(out) == 0 {
		t.Fatalf("no losses in\n%s", b)
	}
	return out
}
