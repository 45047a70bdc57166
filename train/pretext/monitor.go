package pretext

import (
	"math"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops"
	"github.com/ssl4dp/ssl4dp/ops/device"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// The pretext monitors say whether a method is learning its task, which its loss alone does
// not (a MoCo loss of 4.7 may be progress or noise; a rotation loss of 1.387 is chance). They
// are read from values the step already computed (the logits of the loss, the normalised
// outputs), after the forward pass and before the update, so they change neither the loss nor
// its gradients; every method's healthy behaviour is in docs/methods.md.
//
//   - top1, top5 (MoCo, SimCLR, EDMoCo, PLMoCo and PLEDMoCo's global branch): the fraction of
//     queries whose positive logit ranks first / within the first five among [positive,
//     negatives]. A negative whose logit equals the positive's counts as ranking above it, so
//     a collapsed network (all logits equal) scores 0, not 1. Chance: 1/(1+K), K negatives.
//   - dense_top1, dense_top5 (PLMoCo, PLEDMoCo): the same for every matched query cell
//     against the batch's key cells and the dense queue, over all matched cells of the batch.
//   - rot (PLR): the fraction of labelled pixels whose 4-way rotation logits' argmax is the
//     pixel's turn (a tie counts as wrong). Chance: 0.25.
//   - std (BYOL, SimSiam): the SimSiam paper's collapse monitor (arXiv:2011.10566 §4.1,
//     Fig. 2): the standard deviation over the batch of each dimension of the L2-normalised
//     projection z/‖z‖ of the first view, averaged over the d dimensions. About 1/√d when the
//     outputs spread over the sphere, 0 when they collapse to one vector. The population std
//     (divided by N, not N−1).

// rankAccuracy scores the rows of logits [rows, cols]: row i's positive is column label(i)
// (a negative label skips the row). It returns the fraction of scored rows whose positive
// ranks first and within the first five, and how many rows were scored. A column whose
// logit is ≥ the positive's (other than the positive) ranks above it, and so does any column
// when either logit is NaN: a broken step never scores.
func rankAccuracy(logits []float32, rows, cols int, label func(i int) int) (top1, top5 float64, scored int) {
	hit1, hit5 := 0, 0
	for i := 0; i < rows; i++ {
		l := label(i)
		if l < 0 || l >= cols {
			continue
		}
		row := logits[i*cols : (i+1)*cols]
		pos, above := row[l], 0
		for j, v := range row {
			if j != l && !(v < pos) { // ≥, and a NaN on either side counts against
				above++
				if above >= 5 {
					break
				}
			}
		}
		scored++
		if above < 1 {
			hit1++
		}
		if above < 5 {
			hit5++
		}
	}
	if scored == 0 {
		return math.NaN(), math.NaN(), 0
	}
	return float64(hit1) / float64(scored), float64(hit5) / float64(scored), scored
}

// rotationAccuracy is the fraction of pixels of logits [n, 4, h·w] (per image: class-major)
// whose argmax is their turn in turns [n, h·w]; a turn of 255 (or any value outside 0–3)
// skips the pixel. A tied maximum counts as wrong.
func rotationAccuracy(logits, turns []float32, n, hw int) float64 {
	right, counted := 0, 0
	for b := 0; b < n; b++ {
		for p := 0; p < hw; p++ {
			t := int(turns[b*hw+p])
			if t < 0 || t > 3 {
				continue
			}
			counted++
			best := logits[(b*4+t)*hw+p]
			ok := true
			for c := 0; c < 4; c++ {
				if c != t && !(logits[(b*4+c)*hw+p] < best) { // ≥, or a NaN
					ok = false
					break
				}
			}
			if ok {
				right++
			}
		}
	}
	if counted == 0 {
		return math.NaN()
	}
	return float64(right) / float64(counted)
}

// normalizedStd is the mean over the d dimensions of the population standard deviation over
// the n rows of z [n, d] after each row is divided by its L2 norm (a zero row stays zero).
func normalizedStd(z []float32, n, d int) float64 {
	if n == 0 || d == 0 {
		return math.NaN()
	}
	unit := make([]float64, n*d)
	for i := 0; i < n; i++ {
		var ss float64
		for _, v := range z[i*d : (i+1)*d] {
			ss += float64(v) * float64(v)
		}
		inv := 0.0
		if ss > 0 {
			inv = 1 / math.Sqrt(ss)
		}
		for j, v := range z[i*d : (i+1)*d] {
			unit[i*d+j] = float64(v) * inv
		}
	}
	var sum float64
	for j := 0; j < d; j++ {
		var mean float64
		for i := 0; i < n; i++ {
			mean += unit[i*d+j]
		}
		mean /= float64(n)
		var v float64
		for i := 0; i < n; i++ {
			dv := unit[i*d+j] - mean
			v += dv * dv
		}
		sum += math.Sqrt(v / float64(n))
	}
	return sum / float64(d)
}

// nodeValues reads a computed node's float32 values (the step's forward pass must have run).
func nodeValues(n *G.Node) ([]float32, error) {
	if n == nil {
		return nil, errorf("monitor: no node")
	}
	if ops.Transient(n) {
		return nil, errorf("monitor: %s is overwritten later in the pass under the memory plan: name it in the method's KeepNodes", n.Name())
	}
	t, ok := n.Value().(tensor.Tensor)
	if !ok || t == nil {
		return nil, errorf("monitor: %s has no computed value", n.Name())
	}
	if d, ok := t.(*tensor.Dense); ok && device.Of(d) != nil { // a device run: copy it out
		h, err := device.Download(d)
		if err != nil {
			return nil, errorf("monitor: %s: %w", n.Name(), err)
		}
		t = h
	}
	d, ok := t.Data().([]float32)
	if !ok || len(d) != n.Shape().TotalSize() {
		return nil, errorf("monitor: %s holds %T, want %d float32 values", n.Name(), t.Data(), n.Shape().TotalSize())
	}
	return d, nil
}

// contrastMonitors are top1 and top5 (with prefix, e.g. "dense_") of logits [rows, cols],
// each positive competing with cands−1 others (chance 1/cands; NT-Xent's masked self column
// is not a candidate).
func contrastMonitors(prefix string, logits *G.Node, cands int, label func(i int) int, line bool) ([]runlog.Monitor, error) {
	v, err := nodeValues(logits)
	if err != nil {
		return nil, err
	}
	s := logits.Shape()
	t1, t5, _ := rankAccuracy(v, s[0], s[1], label)
	chance := 1 / float64(cands)
	return []runlog.Monitor{
		{Name: prefix + "top1", Value: t1, Chance: chance, Line: line},
		{Name: prefix + "top5", Value: t5, Chance: math.Min(1, 5*chance)},
	}, nil
}

// stdMonitor is the collapse monitor of the projection z [n, d], with 1/√d as its reference.
func stdMonitor(z *G.Node) ([]runlog.Monitor, error) {
	v, err := nodeValues(z)
	if err != nil {
		return nil, err
	}
	s := z.Shape()
	return []runlog.Monitor{{Name: "std", Value: normalizedStd(v, s[0], s[1]), Ref: 1 / math.Sqrt(float64(s[1])), RefName: "1/√d", Line: true}}, nil
}
