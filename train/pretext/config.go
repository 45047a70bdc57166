package pretext

import (
	"fmt"
	"math"
)

// Scale picks a method's default hyper-parameters.
type Scale string

const (
	// Paper is each paper's ImageNet setting (REFERENCES.md §2; docs/methods.md cites each value).
	Paper Scale = "paper"
	// CPU shrinks what only makes sense at ImageNet scale (queue sizes, momentum for runs of
	// a few thousand steps, projection sizes) for runs on a few cores; docs/methods.md lists
	// every change.
	CPU Scale = "cpu"
)

// Config is one method's hyper-parameters: *MoCoConfig, *SimCLRConfig, *BYOLConfig,
// *SimSiamConfig, *PLRConfig or *PLMoCoConfig. String prints it for the run's log.
type Config interface {
	fmt.Stringer
	check() error
}

// MoCoConfig is MoCo v2's (arXiv:2003.04297; facebookresearch/moco main_moco.py, builder.py).
// EDMoCo uses it too.
type MoCoConfig struct {
	Dim         int     `json:"dim"`         // projection size: 128
	Hidden      int     `json:"hidden"`      // projector hidden width; 0 = the encoder's output channels (2048 for ResNet-50)
	Queue       int     `json:"queue"`       // K negatives: 65536
	Temperature float64 `json:"temperature"` // T: 0.2
	Momentum    float64 `json:"momentum"`    // m of the key encoder's EMA: 0.999
	// KeyChunks emulates Shuffle BN on one device: the key encoder runs on this many shuffled
	// chunks of the batch, each with its own BatchNorm statistics (8 = the paper's 8 GPUs).
	KeyChunks int `json:"key_chunks"`
}

// MoCoDefaults returns MoCo v2's settings at the given scale.
func MoCoDefaults(s Scale) MoCoConfig {
	c := MoCoConfig{Dim: 128, Queue: 65536, Temperature: 0.2, Momentum: 0.999, KeyChunks: 8}
	if s == CPU {
		c.Queue, c.Momentum, c.KeyChunks = 4096, 0.99, 2
	}
	return c
}

func (c *MoCoConfig) String() string {
	return fmt.Sprintf("dim %d, hidden %s, queue %d, temperature %g, momentum %g, key chunks %d (Shuffle BN)",
		c.Dim, widthOr(c.Hidden, "encoder channels"), c.Queue, c.Temperature, c.Momentum, c.KeyChunks)
}

func (c *MoCoConfig) check() error {
	return firstErr(
		positive("dim", c.Dim), nonNegative("hidden", c.Hidden), positive("queue", c.Queue),
		temperature(c.Temperature), momentum("momentum", c.Momentum), positive("key chunks", c.KeyChunks))
}

// SimCLRConfig is SimCLR's (arXiv:2002.05709; google-research/simclr).
type SimCLRConfig struct {
	Dim         int     `json:"dim"`         // 128
	Hidden      int     `json:"hidden"`      // 0 = the encoder's output channels
	Temperature float64 `json:"temperature"` // τ: 0.1 (tf2 default and the README's ImageNet runs)
}

// SimCLRDefaults returns SimCLR's settings; at CPU scale τ = 0.5, lightly's default, which
// the paper's small-batch (CIFAR-10) runs also use.
func SimCLRDefaults(s Scale) SimCLRConfig {
	c := SimCLRConfig{Dim: 128, Temperature: 0.1}
	if s == CPU {
		c.Temperature = 0.5
	}
	return c
}

func (c *SimCLRConfig) String() string {
	return fmt.Sprintf("dim %d, hidden %s, temperature %g", c.Dim, widthOr(c.Hidden, "encoder channels"), c.Temperature)
}

func (c *SimCLRConfig) check() error {
	return firstErr(positive("dim", c.Dim), nonNegative("hidden", c.Hidden), temperature(c.Temperature))
}

// BYOLConfig is BYOL's (arXiv:2006.07733; google-deepmind/deepmind-research byol/).
type BYOLConfig struct {
	Dim             int     `json:"dim"`              // projection and prediction size: 256
	Hidden          int     `json:"hidden"`           // projector hidden width; 0 = 4096 × the net's width
	PredictorHidden int     `json:"predictor_hidden"` // predictor hidden width; 0 = 4096 × the net's width
	TauBase         float64 `json:"tau_base"`         // target momentum at step 0, rising to 1 by a cosine: 0.996
}

// BYOLDefaults returns BYOL's settings; at CPU scale τ_base = 0.99, the paper's value for
// its shorter (300-epoch) runs.
func BYOLDefaults(s Scale) BYOLConfig {
	c := BYOLConfig{Dim: 256, TauBase: 0.996}
	if s == CPU {
		c.TauBase = 0.99
	}
	return c
}

func (c *BYOLConfig) String() string {
	return fmt.Sprintf("dim %d, hidden %s, predictor hidden %s, tau base %g (cosine to 1)",
		c.Dim, widthOr(c.Hidden, "4096×width"), widthOr(c.PredictorHidden, "4096×width"), c.TauBase)
}

func (c *BYOLConfig) check() error {
	return firstErr(positive("dim", c.Dim), nonNegative("hidden", c.Hidden),
		nonNegative("predictor hidden", c.PredictorHidden), momentum("tau base", c.TauBase))
}

// SimSiamConfig is SimSiam's (arXiv:2011.10566; facebookresearch/simsiam).
type SimSiamConfig struct {
	Dim             int `json:"dim"`              // projection size: 2048
	Hidden          int `json:"hidden"`           // projector hidden width; 0 = the encoder's output channels
	PredictorHidden int `json:"predictor_hidden"` // predictor bottleneck; 0 = 512 × the net's width
}

// SimSiamDefaults returns SimSiam's settings; at CPU scale the projection is 512 wide.
func SimSiamDefaults(s Scale) SimSiamConfig {
	c := SimSiamConfig{Dim: 2048}
	if s == CPU {
		c.Dim = 512
	}
	return c
}

func (c *SimSiamConfig) String() string {
	return fmt.Sprintf("dim %d, hidden %s, predictor hidden %s", c.Dim, widthOr(c.Hidden, "encoder channels"), widthOr(c.PredictorHidden, "512×width"))
}

func (c *SimSiamConfig) check() error {
	return firstErr(positive("dim", c.Dim), nonNegative("hidden", c.Hidden), nonNegative("predictor hidden", c.PredictorHidden))
}

// PLRConfig is patch-level rotation's: the view is cut into Grid×Grid patches.
type PLRConfig struct {
	Grid int `json:"grid"` // 4 (data.DefaultPLR)
}

// PLRDefaults returns PLR's settings (the same at both scales).
func PLRDefaults(Scale) PLRConfig { return PLRConfig{Grid: 4} }

func (c *PLRConfig) String() string {
	return fmt.Sprintf("grid %d×%d patches, turns 0/90/180/270°", c.Grid, c.Grid)
}

func (c *PLRConfig) check() error { return positive("grid", c.Grid) }

// PLRGrid is the default grid for views of size pixels at an output stride: the largest of
// 4 (the paper-scale default), 3, 2 whose square patches divide the view and each cover at
// least 2×2 cells of the decoder's 1/stride map, else 1 (the whole view turned as one). With
// one cell per patch the turns cannot be told apart and the loss stays at log 4 (found on
// 64-pixel views with grid 4 at stride 16, docs/methods.md); 224 at 16 keeps 4, 64 at 16
// gets 2, 64 at 8 gets 4.
func PLRGrid(size, stride int) int {
	for g := 4; g > 1; g-- {
		if size%g == 0 && PLRPatchCells(size, g, stride) >= 2 {
			return g
		}
	}
	return 1
}

// PLRPatchCells is how many cells of the 1/stride map a patch of a grid×grid cut of a
// size-pixel view spans per side.
func PLRPatchCells(size, grid, stride int) float64 {
	if grid < 1 || stride < 1 {
		return 0
	}
	return float64(size) / float64(grid) / float64(stride)
}

// KeyChunksFor is the default number of Shuffle BN key chunks for a batch: the largest
// count ≤ want (the scale's default: 8 = the paper's GPUs, or 2) that splits the batch into
// equal chunks of at least 2 images each (BatchNorm needs two), else 1 — a batch of 1 does
// not split at all and newMomentumNet says so. --batch 8 at the paper's 8 gets 4, 12 gets
// 6, 7 gets 1.
func KeyChunksFor(batch, want int) int {
	for c := min(want, batch/2); c > 1; c-- {
		if batch%c == 0 {
			return c
		}
	}
	return 1
}

// PLMoCoConfig is patch-level MoCo's. The embedded MoCo settings are shared (temperature,
// momentum, key chunks) or describe the optional global branch (dim, hidden, queue).
type PLMoCoConfig struct {
	MoCoConfig
	DenseDim      int     `json:"dense_dim"`       // cell vector size: 128 (DenseCL's dense projection)
	DenseQueue    int     `json:"dense_queue"`     // negative key cells kept: 65536 (DenseCL's second queue)
	CellsPerImage int     `json:"cells_per_image"` // random key cells of each image enqueued per step: 1
	GlobalWeight  float64 `json:"global_weight"`   // λ of the added global MoCo loss: 0 (dense only)
}

// PLMoCoDefaults returns PLMoCo's settings at the given scale.
func PLMoCoDefaults(s Scale) PLMoCoConfig {
	c := PLMoCoConfig{MoCoConfig: MoCoDefaults(s), DenseDim: 128, DenseQueue: 65536, CellsPerImage: 1}
	if s == CPU {
		c.DenseQueue, c.CellsPerImage = 4096, 4
	}
	return c
}

func (c *PLMoCoConfig) String() string {
	s := fmt.Sprintf("dense dim %d, dense queue %d, %d cell(s) per image enqueued, temperature %g, momentum %g, key chunks %d (Shuffle BN)",
		c.DenseDim, c.DenseQueue, c.CellsPerImage, c.Temperature, c.Momentum, c.KeyChunks)
	if c.GlobalWeight > 0 {
		s += fmt.Sprintf("; + %g × global MoCo loss (dim %d, hidden %s, queue %d)", c.GlobalWeight, c.Dim, widthOr(c.Hidden, "encoder channels"), c.Queue)
	} else {
		s += "; no global loss"
	}
	return s
}

func (c *PLMoCoConfig) check() error {
	if err := c.MoCoConfig.check(); err != nil {
		return err
	}
	if !(c.GlobalWeight >= 0) || math.IsInf(c.GlobalWeight, 1) {
		return usagef("global weight %v, want ≥ 0", c.GlobalWeight)
	}
	return firstErr(positive("dense dim", c.DenseDim), positive("dense queue", c.DenseQueue), positive("cells per image", c.CellsPerImage))
}

func widthOr(v int, def string) string {
	if v > 0 {
		return fmt.Sprint(v)
	}
	return def
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

func positive(name string, v int) error {
	if v < 1 {
		return usagef("%s %d, want ≥ 1", name, v)
	}
	return nil
}

func nonNegative(name string, v int) error {
	if v < 0 {
		return usagef("%s %d, want ≥ 0 (0 = the default)", name, v)
	}
	return nil
}

func temperature(t float64) error {
	if !(t > 0) || math.IsInf(t, 1) {
		return usagef("temperature %v, want > 0", t)
	}
	return nil
}

func momentum(name string, m float64) error {
	if !(m >= 0 && m < 1) {
		return usagef("%s %v, want 0 ≤ m < 1", name, m)
	}
	return nil
}
