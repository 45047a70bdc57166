package ops

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Per-op timing for `ssl4dp bench train --profile`.
//
// Every op's run entry point (Do or UsePreallocDo) starts with
//
//	defer timeOp("Conv2D ∂x", backward, flops)()
//
// which costs one atomic load when no profile is active. The tape machine runs one
// instruction at a time, so the times of the ops of one step add up to the part of the step
// spent inside ops; whatever remains (Gorgonia's own ops and bookkeeping, the optimizer,
// binding the batch) is the caller's to measure.

// ProfileKey names one row of a profile: an op kind (Conv2D, Conv2D ∂x, BatchNorm, …) and
// whether it runs in the backward pass (a gradient op).
type ProfileKey struct {
	Op       string
	Backward bool
}

// ProfileStat is what a profile accumulated for one key.
type ProfileStat struct {
	Calls   int64
	Seconds float64
	FLOPs   float64 // floating-point operations (2 per multiply-add) of convolutions and products; 0 for the rest
}

// Profile accumulates op times while it is active (StartProfile … StopProfile).
type Profile struct {
	mu    sync.Mutex
	stats map[ProfileKey]*ProfileStat
}

var activeProfile atomic.Pointer[Profile]

// StartProfile starts timing every op run, from every goroutine, into a new Profile, which
// replaces any active one.
func StartProfile() *Profile {
	p := &Profile{stats: map[ProfileKey]*ProfileStat{}}
	activeProfile.Store(p)
	return p
}

// StopProfile stops timing; the Profile keeps what it accumulated.
func StopProfile() { activeProfile.Store(nil) }

// ProfileRow is one key with its stat, as Rows returns them.
type ProfileRow struct {
	ProfileKey
	ProfileStat
}

// Rows returns a copy of the accumulated stats, the most time first (ties by name).
func (p *Profile) Rows() []ProfileRow {
	p.mu.Lock()
	defer p.mu.Unlock()
	rows := make([]ProfileRow, 0, len(p.stats))
	for k, s := range p.stats {
		rows = append(rows, ProfileRow{k, *s})
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].Seconds != rows[j].Seconds {
			return rows[i].Seconds > rows[j].Seconds
		}
		if rows[i].Op != rows[j].Op {
			return rows[i].Op < rows[j].Op
		}
		return !rows[i].Backward
	})
	return rows
}

// Seconds is the time of every op run so far.
func (p *Profile) Seconds() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var s float64
	for _, st := range p.stats {
		s += st.Seconds
	}
	return s
}

func (p *Profile) add(k ProfileKey, d time.Duration, flops float64) {
	p.mu.Lock()
	s := p.stats[k]
	if s == nil {
		s = &ProfileStat{}
		p.stats[k] = s
	}
	s.Calls++
	s.Seconds += d.Seconds()
	s.FLOPs += flops
	p.mu.Unlock()
}

// The pass of an op, for timeOp.
const (
	forward  = false
	backward = true
)

func noTiming() {}

// timeOp starts timing one run of an op and returns the function that ends it.
func timeOp(op string, pass bool, flops float64) func() {
	p := activeProfile.Load()
	if p == nil {
		return noTiming
	}
	t := time.Now()
	return func() { p.add(ProfileKey{op, pass}, time.Since(t), flops) }
}

// ActiveProfile is the profile ops are timed into now, or nil.
func ActiveProfile() *Profile { return activeProfile.Load() }
