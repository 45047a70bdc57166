package pretext

import (
	"fmt"
	"math"
	"testing"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// Each method, on an eighth-width ResNet-18 with 32-pixel views of tinyData, batch 16,
// lowers its own loss: the mean over the last 10 of its steps is below the mean over steps
// 10–19 by a margin. Steps 0–9 are left out because MoCo-style losses first rise while the
// queue's random initial keys are replaced by real ones (the official runs show the same
// rise), and the other methods fall fastest there.
//
// The views keep each method's crops, flips and blur but not its colour jitter and
// grayscale: on 32-pixel images in 80 steps they leave nothing to learn (measured: SimCLR
// with them stays at the uniform loss log(2N−1), and falls without them).
func TestEachMethodLowersItsLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("trains every method for 80 steps (~1 minute); the rest of the package checks each piece")
	}
	const size, batch, steps, margin = 32, 16, 80, 0.05
	for _, method := range Methods {
		t.Run(method, func(t *testing.T) {
			c, err := Defaults(method, CPU)
			if err != nil {
				t.Fatal(err)
			}
			lr := 0.03
			switch cc := c.(type) {
			case *MoCoConfig:
				cc.Queue = 64
			case *PLMoCoConfig:
				cc.DenseQueue = 256
			case *DenseCLConfig:
				cc.Queue, cc.DenseQueue = 64, 64
			case *PixProConfig:
				cc.Dim, cc.Hidden = 64, 128
			case *CP2Config:
				cc.Queue = 64
			case *BYOLConfig:
				cc.Dim, cc.Hidden, cc.PredictorHidden = 64, 128, 128
			case *SimSiamConfig:
				cc.Dim = 128
			case *PLRConfig:
				cc.Grid, lr = 2, 0.1 // one 16-pixel patch per cell of the 2×2 decoder map
			}
			o := Options{Net: Net{Encoder: graphs.ResNet18, Width: 0.125, DecoderWidth: 32}, Size: size, Seed: 1, Steps: steps}
			o.Views = quietViews(method, size)
			task, err := New(method, o, c)
			if err != nil {
				t.Fatal(err)
			}
			d := newDriver(t, task, batch, lr, 1)
			d.monitor = true
			losses := make([]float64, steps)
			for i := range losses {
				losses[i] = d.next()
			}
			early, late := mean(losses[10:20]), mean(losses[steps-10:])
			t.Logf("%s: loss %.4f over steps 10–19, %.4f over the last 10 (%s)", method, early, late, c)
			for _, m := range d.monitors[0] {
				against := fmt.Sprintf("chance %.4g", m.Chance)
				if m.Ref != 0 {
					against = fmt.Sprintf("%s %.4g", m.RefName, m.Ref)
				}
				t.Logf("%s: %s %.4f over steps 10–19, %.4f over the last 10 (%s)", method, m.Name,
					monitorMean(d.monitors[10:20], m.Name), monitorMean(d.monitors[steps-10:], m.Name), against)
			}
			if !(late < early-margin) {
				t.Errorf("%s: loss went from %.4f (steps 10–19) to %.4f (last 10 steps); want a drop of more than %v", method, early, late, margin)
			}
		})
	}
}

// quietViews are the method's views without colour jitter and grayscale (nil for PLR,
// whose default view has none).
func quietViews(method string, size int) []data.ViewConfig {
	var vs []data.ViewConfig
	switch method {
	case "plr":
		return nil
	case "simclr":
		vs = []data.ViewConfig{data.SimCLRView(size), data.SimCLRView(size)}
	case "byol", "pixpro":
		b := data.BYOLViews(size)
		vs = b[:]
	default:
		vs = []data.ViewConfig{data.MoCoV2View(size), data.MoCoV2View(size)}
	}
	for i := range vs {
		vs[i].Jitter.P, vs[i].GrayP = 0, 0
	}
	return vs
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// monitorMean is the mean of the named monitor over steps (NaN values, nothing to score,
// left out).
func monitorMean(steps [][]runlog.Monitor, name string) float64 {
	sum, n := 0.0, 0
	for _, ms := range steps {
		for _, m := range ms {
			if m.Name == name && !math.IsNaN(m.Value) {
				sum += m.Value
				n++
			}
		}
	}
	return sum / float64(n)
}
