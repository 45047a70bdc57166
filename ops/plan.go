package ops

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"weak"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// A memory plan for one compiled training step: the ops' kept output buffers (outBuf) share
// memory wherever their values' lifetimes do not overlap.
//
// Without a plan every op keeps its own output from run to run, so every activation and
// every activation gradient of a step is resident at once. PyTorch frees an activation
// gradient as soon as backward has used it; here the same effect comes from placing the
// buffers, once per graph, in one arena per dtype at offsets chosen so that two values alive
// at the same time never overlap. Steps then allocate nothing and their memory is the
// arena: the largest set of values alive at one instant, not the sum of all of them.
//
// Lifetimes follow the order Gorgonia v0.9.18's TapeMachine runs the nodes: Compile sorts
// the graph with G.Sort and reverses it (the device transports it would insert exist only in
// its cuda build), and runs a node only when it is the first of its hash (common
// subexpression elimination; the others read its register). A value lives from its
// producer to its last reader, where
//   - a node whose op has no kept buffer (Gorgonia's own ops: gradient accumulation's Add,
//     Reshape; lateInput, StopGradient) may return its input's memory or write into it (its
//     ReturnsPtr/UnsafeDo paths), so it joins its inputs' group: their memory lives as long
//     as the last reader of any of them;
//   - a value read after the step lives to the end: every root of the graph (nothing reads
//     it: the loss, outputs), every gradient of an input node (what the optimizer reads), and
//     the nodes the caller names (loss parts, monitors' logits, keys read by AfterStep), with
//     everything in their groups.
//
// A planned op ignores the machine's own buffer offers: the machine offers a register's
// previous value, which the plan may have given to another value by then. On the CPU our ops
// are never offered one anyway (none ReturnsPtr or CallsExtern, so every one writes a fresh
// register), so nothing changes there.
//
// After a run only the kept values may be read; the others have been overwritten by later
// nodes of the same run (Transient reports which). The device path (ops on device.Engine
// tensors) is not planned: outBuf.onDevice keeps its own buffer as before.

// MemoryPlan is the plan PlanMemory applied to a graph.
type MemoryPlan struct {
	Values    int   // op outputs placed in the arenas
	Kept      int   // of which live past the step (read after it)
	Unplanned int   // executed op nodes without a kept buffer (Gorgonia's own ops, …)
	Bytes     int64 // the arenas' size
	Live      int64 // the most bytes of planned values alive at one instruction: Bytes' lower bound
	Separate  int64 // what the planned values take with a buffer each (no plan)

	bufs      []*outBuf
	transient []*G.Node
}

// PlanOptions are PlanMemoryWith's knobs. The zero value is the plan.
type PlanOptions struct {
	// ShortenBy ends every lifetime that many instructions early (kept values included),
	// so values still read share memory with later ones. Only for tests: it proves that the
	// bit-for-bit checks against an unplanned run see a broken plan.
	ShortenBy int
}

// PlanMemory places the kept output buffers of g's ops by lifetime (see the comment above)
// and makes every planned op write into its place from the next run on. keep names nodes
// read after a run besides the roots and the inputs' gradients (nil entries are ignored).
// Build the machine (G.NewTapeMachine) and plan before the first run; plan a graph once and
// add no nodes to it afterwards.
func PlanMemory(g *G.ExprGraph, keep ...*G.Node) (*MemoryPlan, error) {
	return PlanMemoryWith(g, PlanOptions{}, keep...)
}

// PlanMemoryWith is PlanMemory with options.
func PlanMemoryWith(g *G.ExprGraph, opt PlanOptions, keep ...*G.Node) (*MemoryPlan, error) {
	sorted, err := G.Sort(g)
	if err != nil {
		return nil, errorf("memory plan: sorting the graph: %w", err)
	}
	slices.Reverse(sorted) // the machine's order (G.Compile does the same)
	n := len(sorted)
	end := n // "after the step"

	// The machine's common subexpression elimination: the first node of each hash in this
	// order runs, later ones with the same hash are served from it. Leaves (inputs,
	// constants) are registered first, as Gorgonia's analyze does.
	uniques := map[uint32]*G.Node{}
	for _, nd := range sorted {
		if len(children(g, nd)) == 0 {
			uniques[nd.Hashcode()] = nd
		}
	}
	repl := make(map[*G.Node]*G.Node, n)
	index := make(map[*G.Node]int, n)
	for i, nd := range sorted {
		index[nd] = i
		h := nd.Hashcode()
		if r, ok := uniques[h]; ok {
			repl[nd] = r
		} else {
			uniques[h] = nd
			repl[nd] = nd
		}
	}
	r := func(nd *G.Node) *G.Node {
		if x, ok := repl[nd]; ok {
			return x
		}
		return nd
	}

	// Union-find over nodes: a group's members may share memory.
	parent := make(map[*G.Node]*G.Node, n)
	var find func(*G.Node) *G.Node
	find = func(x *G.Node) *G.Node {
		p, ok := parent[x]
		if !ok || p == x {
			return x
		}
		root := find(p)
		parent[x] = root
		return root
	}
	union := func(a, b *G.Node) {
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[rb] = ra
		}
	}
	last := map[*G.Node]int{} // a node's last reader (or its own index)
	type planned struct {
		node  *G.Node
		buf   *outBuf
		dt    tensor.Dtype
		shape tensor.Shape
		start int
		elems int
	}
	var vals []planned
	bufUsers := map[*outBuf]int{} // nodes per buffer: one, unless an op value was applied twice
	p := &MemoryPlan{}
	isLeaf := func(nd *G.Node) bool { return nd.Op() == nil }
	for i, nd := range sorted {
		if isLeaf(nd) || r(nd) != nd {
			continue
		}
		last[nd] = max(last[nd], i)
		for _, c := range children(g, nd) {
			c = r(c)
			last[c] = max(last[c], i)
		}
		own, isOurs := nd.Op().(bufferer)
		var b *outBuf
		if isOurs {
			b = own.outBuffer()
		}
		dt := nd.Dtype()
		shape := nd.Shape()
		if b == nil || (dt != tensor.Float32 && dt != tensor.Float64) || len(shape) == 0 || shape.TotalSize() <= 1 {
			p.Unplanned++
			if !isOurs { // may be a view of, or written into, an input
				for _, c := range children(g, nd) {
					if c = r(c); !isLeaf(c) {
						union(nd, c)
					}
				}
			}
			continue
		}
		vals = append(vals, planned{node: nd, buf: b, dt: dt, shape: shape.Clone(), start: i, elems: shape.TotalSize()})
		bufUsers[b]++
	}
	// Read after the step.
	for _, nd := range sorted {
		if isLeaf(nd) {
			continue
		}
		root := !g.To(nd.ID()).Next()
		grad := false
		for _, d := range nd.DerivOf() {
			if d.Op() == nil {
				grad = true
			}
		}
		if root || grad {
			last[r(nd)] = end
		}
	}
	for _, k := range keep {
		if k != nil {
			if _, ok := index[k]; !ok {
				return nil, errorf("memory plan: node %q to keep is not in the graph", k.Name())
			}
			last[r(k)] = end
		}
	}
	groupEnd := map[*G.Node]int{}
	for nd, l := range last {
		root := find(nd)
		groupEnd[root] = max(groupEnd[root], l)
	}

	type iv struct {
		v          planned
		start, end int
		off, size  int // in elements, size rounded up to whole cache lines
	}
	byDtype := map[tensor.Dtype][]*iv{}
	for _, v := range vals {
		if bufUsers[v.buf] > 1 {
			// One op value behind two nodes (outBuf's rules forbid it): one buffer cannot have
			// two places, so it keeps its own memory, as without a plan.
			p.Unplanned++
			continue
		}
		e := groupEnd[find(v.node)]
		if e >= end {
			p.Kept++
		}
		e = max(v.start, e-opt.ShortenBy)
		const line = 16 // elements: 64 bytes of float32
		byDtype[v.dt] = append(byDtype[v.dt], &iv{v: v, start: v.start, end: e, size: (v.elems + line - 1) / line * line})
	}
	for nd := range last {
		if !isLeaf(nd) && groupEnd[find(nd)] < end {
			p.transient = append(p.transient, nd)
		}
	}

	// Offsets: largest first, each at the lowest offset that overlaps no placed value alive
	// at the same time (the greedy-by-size heuristic of TFLite's arena planner).
	dts := make([]tensor.Dtype, 0, len(byDtype))
	for dt := range byDtype {
		dts = append(dts, dt)
	}
	sort.Slice(dts, func(i, j int) bool { return dts[i].Size() < dts[j].Size() })
	for _, dt := range dts {
		list := byDtype[dt]
		sort.SliceStable(list, func(i, j int) bool {
			if list[i].size != list[j].size {
				return list[i].size > list[j].size
			}
			return list[i].start < list[j].start
		})
		var placed []*iv
		total := 0
		for _, x := range list {
			var busy [][2]int
			for _, y := range placed {
				if x.start <= y.end && y.start <= x.end {
					busy = append(busy, [2]int{y.off, y.off + y.size})
				}
			}
			sort.Slice(busy, func(i, j int) bool { return busy[i][0] < busy[j][0] })
			off := 0
			for _, b := range busy {
				if off+x.size <= b[0] {
					break
				}
				off = max(off, b[1])
			}
			x.off = off
			total = max(total, off+x.size)
			placed = append(placed, x)
		}
		var arena any
		switch dt {
		case tensor.Float32:
			arena = make([]float32, total)
		default:
			arena = make([]float64, total)
		}
		for _, x := range list {
			var backing any
			switch a := arena.(type) {
			case []float32:
				backing = a[x.off : x.off+x.v.elems : x.off+x.v.elems]
			case []float64:
				backing = a[x.off : x.off+x.v.elems : x.off+x.v.elems]
			}
			x.v.buf.slot = &planSlot{dt: dt, shape: x.v.shape, backing: backing}
			x.v.buf.t = nil
			p.bufs = append(p.bufs, x.v.buf)
			p.Separate += int64(x.v.elems) * int64(dt.Size())
		}
		p.Values += len(list)
		p.Bytes += int64(total) * int64(dt.Size())
		delta := make([]int64, n+2)
		for _, x := range list {
			delta[x.start] += int64(x.size)
			delta[x.end+1] -= int64(x.size)
		}
		var live, most int64
		for _, d := range delta {
			live += d
			most = max(most, live)
		}
		p.Live += most * int64(dt.Size())
	}
	transientMu.Lock()
	for _, nd := range p.transient {
		transientNodes[weak.Make(nd)] = struct{}{}
	}
	transientMu.Unlock()
	return p, nil
}

// Release gives every planned op its own buffer again (allocated on its next run), e.g.
// before the graph is changed or run by another kind of machine.
func (p *MemoryPlan) Release() {
	for _, b := range p.bufs {
		b.slot, b.t = nil, nil
	}
	transientMu.Lock()
	for _, nd := range p.transient {
		delete(transientNodes, weak.Make(nd))
	}
	transientMu.Unlock()
	p.bufs, p.transient = nil, nil
}

// String is one line for logs: how many values, and the arenas against separate buffers.
func (p *MemoryPlan) String() string {
	return fmt.Sprintf("memory plan: %d values (%d kept past the step, %d other op nodes) in %.1f MiB (at most %.1f MiB alive at once) instead of %.1f MiB",
		p.Values, p.Kept, p.Unplanned, float64(p.Bytes)/(1<<20), float64(p.Live)/(1<<20), float64(p.Separate)/(1<<20))
}

// transientNodes are the planned graphs' overwritten nodes, held weakly: a plan that is never
// released (a momentum network's, living as long as its task) must not keep its graph, and
// with it the arena, alive after the task is gone. A stale entry costs a few bytes.
var (
	transientMu    sync.Mutex
	transientNodes = map[weak.Pointer[G.Node]]struct{}{}
)

// Transient reports whether a memory plan lets later nodes of the same run overwrite n's
// value: after the run, n.Value() holds something else. Code that reads values after a run
// (monitors, AfterStep) checks it and names the node to keep instead of reading garbage.
func Transient(n *G.Node) bool {
	transientMu.Lock()
	defer transientMu.Unlock()
	_, ok := transientNodes[weak.Make(n)]
	return ok
}

// children are nd's inputs (Gorgonia exports them only through the graph).
func children(g *G.ExprGraph, nd *G.Node) []*G.Node {
	var out []*G.Node
	for it := g.From(nd.ID()); it.Next(); {
		out = append(out, it.Node().(*G.Node))
	}
	return out
}

// planSlot is a planned outBuf's place in its arena.
type planSlot struct {
	dt      tensor.Dtype
	shape   tensor.Shape
	backing any // []float32 or []float64 of exactly shape's size
}

// bufferer is an op of this package whose output is fresh or its kept buffer, never a view of
// an input (plan_hooks.go lists them); outBuffer is nil where there is nothing to plan.
type bufferer interface{ outBuffer() *outBuf }
