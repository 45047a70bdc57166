package pretext

import (
	"math"

	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

var (
	_ train.Monitorer = (*DenseCL)(nil)
	_ train.Monitorer = (*PixPro)(nil)
)

// Monitors are the global branch's top1/top5 (each query's key among the queue) and
// dense_top1/dense_top5 (each query cell's matched key cell among the dense queue; with
// geometry matching, cells without a positive are not counted).
func (m *DenseCL) Monitors() ([]runlog.Monitor, error) {
	ms, err := contrastMonitors("", m.glogits, 1+m.cfg.Queue, func(int) int { return 0 }, true)
	if err != nil {
		return nil, err
	}
	d, err := contrastMonitors("dense_", m.dlogits, 1+m.cfg.DenseQueue, func(i int) int { return int(m.lab[i]) }, true)
	return append(ms, d...), err
}

// Monitors are "pos_cos", the mean cosine of the positive pairs (view 1's propagated pixel
// against the target's view-2 pixel, weighted as the loss weighs them: −½ of the loss's
// first direction); "std", the collapse monitor (monitor.go) over every pixel of view 1's
// online projection — the space the target's pixels live in, as BYOL's std reads z — and
// "ppm_std", the same of the propagated pixels, which the module smooths towards each
// image's mean (so it sits lower).
func (m *PixPro) Monitors() ([]runlog.Monitor, error) {
	y, err := nodeValues(m.y1)
	if err != nil {
		return nil, err
	}
	t, err := nodeValues(m.t2)
	if err != nil {
		return nil, err
	}
	x, err := nodeValues(m.x1)
	if err != nil {
		return nil, err
	}
	s := m.y1.Shape()
	n, d, hw := s[0], s[1], s[2]
	if len(m.wv12) != n*hw*hw {
		return nil, errorf("pixpro: monitors before Bind")
	}
	return []runlog.Monitor{
		{Name: "pos_cos", Value: positiveCosine(y, t, m.wv12, n, d, hw), Line: true},
		{Name: "std", Value: normalizedStd(pixelRows(x, n, d, hw), n*hw, d), Ref: 1 / math.Sqrt(float64(d)), RefName: "1/√d", Line: true},
		{Name: "ppm_std", Value: normalizedStd(pixelRows(y, n, d, hw), n*hw, d), Ref: 1 / math.Sqrt(float64(d)), RefName: "1/√d"},
	}, nil
}

// positiveCosine is mean_n Σ_ij w_nij y_ni·t_nj for maps [n, d, hw] and weights [n, hw, hw].
func positiveCosine(y, t, w []float32, n, d, hw int) float64 {
	var total float64
	for i := 0; i < n; i++ {
		yi, ti, wi := y[i*d*hw:], t[i*d*hw:], w[i*hw*hw:]
		for a := 0; a < hw; a++ {
			for b := 0; b < hw; b++ {
				if wab := wi[a*hw+b]; wab != 0 {
					var c float64
					for k := 0; k < d; k++ {
						c += float64(yi[k*hw+a]) * float64(ti[k*hw+b])
					}
					total += float64(wab) * c
				}
			}
		}
	}
	return total / float64(n)
}

// pixelRows turns maps [n, d, hw] into rows [n·hw, d].
func pixelRows(v []float32, n, d, hw int) []float32 {
	out := make([]float32, n*hw*d)
	for i := 0; i < n; i++ {
		for p := 0; p < hw; p++ {
			for k := 0; k < d; k++ {
				out[(i*hw+p)*d+k] = v[i*d*hw+k*hw+p]
			}
		}
	}
	return out
}
