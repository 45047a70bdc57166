package pretext

import (
	"fmt"
	"math"
)

// The two ways DenseCL finds each query cell's positive key cell (DenseCLConfig.Match).
const (
	// MatchSimilarity is DenseCL's rule: the key cell whose backbone feature has the highest
	// cosine with the query cell's (WXinlong/DenseCL densecl.py, backbone_sim_matrix).
	MatchSimilarity = "similarity"
	// MatchGeometry is PLMoCo's rule: the key cell covering the query cell's centre, mapped
	// through the two crops (data.CellMatch); cells outside the other view are skipped.
	MatchGeometry = "geometry"
)

// DenseCLConfig is DenseCL's (arXiv:2011.09157; WXinlong/DenseCL
// configs/selfsup/densecl/densecl_imagenet_200ep.py). The embedded MoCo settings are the
// global branch's and shared (temperature, momentum, key chunks).
type DenseCLConfig struct {
	MoCoConfig
	DenseDim    int     `json:"dense_dim"`    // cell vector size: 128
	DenseQueue  int     `json:"dense_queue"`  // negative dense keys kept: 65536 (one per key image per step)
	DenseWeight float64 `json:"dense_weight"` // λ in (1 − λ)·L_global + λ·L_dense: 0.5
	Match       string  `json:"match"`        // MatchSimilarity (DenseCL's) or MatchGeometry
}

// DenseCLDefaults returns DenseCL's settings: MoCo v2's plus the dense branch; at CPU scale
// MoCo's CPU settings and a dense queue of 4096.
func DenseCLDefaults(s Scale) DenseCLConfig {
	c := DenseCLConfig{MoCoConfig: MoCoDefaults(s), DenseDim: 128, DenseQueue: 65536, DenseWeight: 0.5, Match: MatchSimilarity}
	if s == CPU {
		c.DenseQueue = 4096
	}
	return c
}

func (c *DenseCLConfig) String() string {
	return fmt.Sprintf("%g × dense (dim %d, queue %d, matched by %s) + %g × global (dim %d, hidden %s, queue %d), temperature %g, momentum %g, key chunks %d (Shuffle BN)",
		c.DenseWeight, c.DenseDim, c.DenseQueue, c.Match, 1-c.DenseWeight, c.Dim, widthOr(c.Hidden, "encoder channels"), c.Queue,
		c.Temperature, c.Momentum, c.KeyChunks)
}

func (c *DenseCLConfig) check() error {
	if err := c.MoCoConfig.check(); err != nil {
		return err
	}
	if !(c.DenseWeight >= 0 && c.DenseWeight <= 1) {
		return usagef("dense weight %v, want 0 ≤ λ ≤ 1 (the loss is (1 − λ)·global + λ·dense)", c.DenseWeight)
	}
	if c.Match != MatchSimilarity && c.Match != MatchGeometry {
		return usagef("match %q, want %q (DenseCL's) or %q (PLMoCo's crop geometry)", c.Match, MatchSimilarity, MatchGeometry)
	}
	return firstErr(positive("dense dim", c.DenseDim), positive("dense queue", c.DenseQueue))
}

// PixProConfig is PixPro's (arXiv:2011.10043; zdaxie/PixPro tools/pixpro_base_r50_100ep.sh,
// contrast/models/PixPro.py).
type PixProConfig struct {
	Dim            int     `json:"dim"`             // projection size per pixel: 256
	Hidden         int     `json:"hidden"`          // projector hidden width; 0 = 4096 × the net's width
	TauBase        float64 `json:"tau_base"`        // target momentum at step 0, rising to 1 by a cosine: 0.99
	PosThreshold   float64 `json:"pos_threshold"`   // positive pixel pairs: centre distance / bin diagonal below this: 0.7
	InstanceWeight float64 `json:"instance_weight"` // weight of the added instance (BYOL) branch: 0 (off)
}

// PPMGamma is the exponent γ of the pixel propagation module's similarity max(cos, 0)^γ
// (PixPro's --pixpro-p 2).
const PPMGamma = 2

// PixProDefaults returns PixPro's settings (the same at both scales: they fit a CPU run).
func PixProDefaults(Scale) PixProConfig {
	return PixProConfig{Dim: 256, TauBase: 0.99, PosThreshold: 0.7}
}

func (c *PixProConfig) String() string {
	s := fmt.Sprintf("dim %d, hidden %s, tau base %g (cosine to 1), positives within %g bin diagonals, PPM γ %d",
		c.Dim, widthOr(c.Hidden, "4096×width"), c.TauBase, c.PosThreshold, PPMGamma)
	if c.InstanceWeight > 0 {
		return s + fmt.Sprintf("; + %g × instance (BYOL) loss", c.InstanceWeight)
	}
	return s + "; no instance branch"
}

func (c *PixProConfig) check() error {
	if !(c.PosThreshold > 0) || math.IsInf(c.PosThreshold, 1) {
		return usagef("pos threshold %v, want > 0 (PixPro: 0.7)", c.PosThreshold)
	}
	if !(c.InstanceWeight >= 0) || math.IsInf(c.InstanceWeight, 1) {
		return usagef("instance weight %v, want ≥ 0 (0: no instance branch)", c.InstanceWeight)
	}
	return firstErr(positive("dim", c.Dim), nonNegative("hidden", c.Hidden), momentum("tau base", c.TauBase))
}

// denseSetting applies a dense-branch flag to PLMoCo or DenseCL.
func denseSetting(pl func(*PLMoCoConfig, *Flags), dc func(*DenseCLConfig, *Flags)) func(Config, *Flags) bool {
	return func(c Config, f *Flags) bool {
		switch cc := c.(type) {
		case *PLMoCoConfig:
			pl(cc, f)
		case *DenseCLConfig:
			dc(cc, f)
		default:
			return false
		}
		return true
	}
}

func denseclSetting(set func(*DenseCLConfig, *Flags)) func(Config, *Flags) bool {
	return func(c Config, f *Flags) bool {
		cc, ok := c.(*DenseCLConfig)
		if ok {
			set(cc, f)
		}
		return ok
	}
}

func pixproSetting(set func(*PixProConfig, *Flags)) func(Config, *Flags) bool {
	return func(c Config, f *Flags) bool {
		cc, ok := c.(*PixProConfig)
		if ok {
			set(cc, f)
		}
		return ok
	}
}
