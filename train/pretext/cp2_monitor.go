package pretext

import (
	"math"

	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

var _ train.Monitorer = (*CP2)(nil)

// Monitors are CP2's: top1/top5 of each pooled query's pooled key among the queue (MoCo's),
// and dense_top1, cp2DenseAccuracy over the dense logits.
func (m *CP2) Monitors() ([]runlog.Monitor, error) {
	ms, err := contrastMonitors("", m.l.insLogits, 1+m.cfg.Queue, func(int) int { return 0 }, true)
	if err != nil {
		return nil, err
	}
	v, err := nodeValues(m.l.denseLogits)
	if err != nil {
		return nil, err
	}
	acc, chance := cp2DenseAccuracy(v, m.mq, m.mk, m.batch, m.grid.H*m.grid.W)
	return append(ms, runlog.Monitor{Name: "dense_top1", Value: acc, Chance: chance, Line: true}), nil
}

// cp2DenseAccuracy scores the dense logits [n, hw (query cell x), hw (key cell y)]: for every
// foreground key cell y of an image with foreground and background query cells, whether its
// best query cell (the softmax axis of L_dense) is a foreground one — the best foreground
// logit strictly above every background logit (ties and NaNs count as wrong). Chance is the
// mean over the scored key cells of their image's foreground fraction of query cells (a
// network that has learnt nothing picks a query cell at random). Images whose query view is
// all foreground or all background say nothing and are skipped; NaN when none is scored.
func cp2DenseAccuracy(logits, mq, mk []float32, n, hw int) (acc, chance float64) {
	hits, scored, sumChance := 0, 0, 0.0
	for i := 0; i < n; i++ {
		fg := 0
		for x := 0; x < hw; x++ {
			if mq[i*hw+x] > 0 {
				fg++
			}
		}
		if fg == 0 || fg == hw {
			continue
		}
		for y := 0; y < hw; y++ {
			if mk[i*hw+y] == 0 {
				continue
			}
			bestFg, bestBg := math.Inf(-1), math.Inf(-1)
			nan := false
			for x := 0; x < hw; x++ {
				l := float64(logits[(i*hw+x)*hw+y])
				if math.IsNaN(l) {
					nan = true
				}
				if mq[i*hw+x] > 0 {
					bestFg = math.Max(bestFg, l)
				} else {
					bestBg = math.Max(bestBg, l)
				}
			}
			scored++
			sumChance += float64(fg) / float64(hw)
			if !nan && bestFg > bestBg {
				hits++
			}
		}
	}
	if scored == 0 {
		return math.NaN(), 0
	}
	return float64(hits) / float64(scored), sumChance / float64(scored)
}
