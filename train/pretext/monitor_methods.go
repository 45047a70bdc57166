package pretext

import (
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// Each method's monitors (monitor.go): read after the step's pass, from the values it made.
var (
	_ train.Monitorer = (*MoCo)(nil)
	_ train.Monitorer = (*SimCLR)(nil)
	_ train.Monitorer = (*BYOL)(nil)
	_ train.Monitorer = (*SimSiam)(nil)
	_ train.Monitorer = (*PLR)(nil)
	_ train.Monitorer = (*PLMoCo)(nil)
)

// Monitors are top1/top5 of each query's key among the queue (column 0 is the positive).
func (m *MoCo) Monitors() ([]runlog.Monitor, error) {
	return contrastMonitors("", m.logits, 1+m.cfg.Queue, func(int) int { return 0 }, true)
}

// Monitors are top1/top5 of each view's other view among the 2n−1 other embeddings.
func (m *SimCLR) Monitors() ([]runlog.Monitor, error) {
	n := m.batch
	return contrastMonitors("", m.logits, 2*n-1, func(i int) int { return (i + n) % (2 * n) }, true)
}

// Monitors are the std of the online network's normalised projection of view 1.
func (m *BYOL) Monitors() ([]runlog.Monitor, error) { return stdMonitor(m.z1) }

// Monitors are the std of the normalised projection of view 1.
func (m *SimSiam) Monitors() ([]runlog.Monitor, error) { return stdMonitor(m.z1) }

// Monitors are the per-pixel rotation accuracy ("rot").
func (m *PLR) Monitors() ([]runlog.Monitor, error) {
	v, err := nodeValues(m.logits)
	if err != nil {
		return nil, err
	}
	s := m.logits.Shape()
	if len(m.turns) != s[0]*s[2]*s[3] {
		return nil, errorf("plr: monitors before Bind")
	}
	return []runlog.Monitor{{Name: "rot", Value: rotationAccuracy(v, m.turns, s[0], s[2]*s[3]), Chance: 0.25, Line: true}}, nil
}

// Monitors are dense_top1/dense_top5 of every matched query cell's key cell among the
// batch's key cells and the dense queue, and with a global branch (λ > 0) its top1/top5.
func (m *PLMoCo) Monitors() ([]runlog.Monitor, error) {
	rows := m.denseLogits.Shape()[1]
	ms, err := contrastMonitors("dense_", m.denseLogits, rows, func(i int) int { return int(m.lab[i]) }, true)
	if err != nil || m.globalLogits == nil {
		return ms, err
	}
	g, err := contrastMonitors("", m.globalLogits, 1+m.cfg.Queue, func(int) int { return 0 }, true)
	return append(ms, g...), err
}
