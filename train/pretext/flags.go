package pretext

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/schedule"
)

// Flags are the command line of `ssl4dp train pretext` (kong tags). The flags it shares with
// `train seg` mean the same there; the method's hyper-parameters default to its paper's
// values (--scale paper) or to small-run values (--scale cpu), see docs/methods.md.
type Flags struct {
	Method       string  `name:"method" help:"Pretext method: moco, simclr, byol, simsiam, plr, edmoco, plmoco, pledmoco, densecl, pixpro or cp2 (required unless resuming)."`
	Encoder      string  `name:"encoder" default:"resnet50" enum:"resnet18,resnet34,resnet50" help:"ResNet encoder, torchvision's layout and parameter names (${enum})."`
	Width        float64 `name:"width" default:"1" help:"Multiplies every encoder and head width: 1 is the published network, 0.25 a quarter-width one that trains on a laptop CPU."`
	OutputStride int     `name:"output-stride" default:"16" help:"Encoder output stride: 16 (layer4 dilated) or 8 (layers 3 and 4 dilated); PLMoCo's cells are the 1/16 or 1/8 map."`
	Head         string  `name:"head" default:"fcn" enum:"fcn,psp,deeplabv3plus,nonlocal" help:"Decoder of the encoder-decoder methods plr, edmoco, pledmoco and cp2 (${enum}); its last conv outputs --decoder-width features."`
	DecoderWidth int     `name:"decoder-width" default:"128" help:"Channels of the decoder's output map (encoder-decoder methods)."`
	Init         string  `name:"init" type:"existingfile" placeholder:"ENCODER.onnx" help:"Continue pre-training from this ONNX file. A ResNet with torchvision's names (an earlier run's encoder.onnx or model.onnx, scripts/export_torchvision.py) fills --encoder's initializers by name; any other classification network (ConvNeXt, EfficientNet, MobileNet, RegNet, ViT: scripts/export_families.py, docs/import.md) becomes the encoder itself, cut at its dense map (--features), and encoder.onnx keeps its initializer names. Without it the network is randomly initialised."`
	external     bool    // set by openInit: --init is the encoder itself (no --encoder, --width, --output-stride)
	Features     string  `name:"features" placeholder:"TENSOR" help:"With --init of a non-ResNet: the tensor that is the encoder's dense output. Default: the last map before global pooling, or a ViT's patch tokens as a grid (class token dropped); 'ssl4dp inspect X.onnx --check' lists the candidates and their strides."`

	Data   string `name:"data" placeholder:"SPEC" help:"Images to pre-train on (required unless resuming): folder:DIR, voc:DIR, seg:DIR, synthetic[:k=v,...] or cutpaste:...; labels are not used."`
	Epochs int    `name:"epochs" default:"200" help:"Passes over the data (MoCo v2: 200); the run has epochs × ⌊images/batch⌋ steps."`
	Iters  int    `name:"iters" default:"0" help:"Optimizer steps instead of --epochs (0: from --epochs)."`
	Batch  int    `name:"batch" default:"256" help:"Images per step (MoCo v2: 256)."`
	Size   int    `name:"size" default:"224" help:"Side of the square views in pixels (the papers: 224)."`
	Scale  string `name:"scale" default:"paper" enum:"paper,cpu" help:"Hyper-parameter defaults: the papers' (${enum}); cpu shrinks queues and projections and quickens the momentum networks for short runs."`

	Dim             int     `name:"dim" help:"Projection size (moco, edmoco, simclr, byol, simsiam; plmoco/pledmoco: the global branch)."`
	Hidden          int     `name:"hidden" help:"Projector hidden width (0: the method's default)."`
	PredictorHidden int     `name:"predictor-hidden" help:"Predictor hidden width (byol, simsiam)."`
	Queue           int     `name:"queue" help:"Negative keys kept (moco, edmoco; plmoco/pledmoco: the global queue)."`
	Temperature     float64 `name:"temperature" help:"Softmax temperature (moco, simclr and their variants)."`
	KeyMomentum     float64 `name:"key-momentum" help:"EMA momentum m of the key encoder (moco and variants)."`
	KeyChunks       int     `name:"key-chunks" help:"Shuffled chunks the key encoder runs on, each with its own BatchNorm statistics (Shuffle BN on one device)."`
	TauBase         float64 `name:"tau-base" help:"BYOL's target momentum at the start (rises to 1 along a cosine)."`
	Grid            int     `name:"grid" help:"PLR: patches per side, each turned by a random multiple of 90°."`
	DenseDim        int     `name:"dense-dim" help:"PLMoCo: size of each cell vector."`
	DenseQueue      int     `name:"dense-queue" help:"PLMoCo: negative key cells kept."`
	CellsPerImage   int     `name:"cells-per-image" help:"PLMoCo: random key cells of each image enqueued per step."`
	GlobalWeight    float64 `name:"global-weight" help:"PLMoCo: weight λ of an added image-level MoCo loss (default 0: dense only)."`
	DenseWeight     float64 `name:"dense-weight" help:"DenseCL: λ in (1 − λ)·global + λ·dense (default 0.5). CP2: weight of the dense foreground loss beside the image-level one (default 0.2, CP2's)."`
	Match           string  `name:"match" enum:",similarity,geometry" default:"" placeholder:"similarity|geometry" help:"DenseCL: how a query cell finds its positive key cell: similarity (the default, DenseCL's: the most similar backbone feature) or geometry (PLMoCo's: the cell covering it in the source image)."`
	PosThreshold    float64 `name:"pos-threshold" help:"PixPro: pixels of the two views are positives when their centres are closer than this many cell diagonals in the source image (default 0.7)."`
	InstanceWeight  float64 `name:"instance-weight" help:"PixPro: weight of the added image-level BYOL loss (default 0: no instance branch)."`

	schedule.Flags `embed:""`
	// The SGD flags, shared with train seg; the default weight decay is DefaultWeightDecay
	// and heads are HeadPrefixes.
	train.OptimFlags `embed:"" kong:"set='weight_decay=0.0001',set='weight_decay_source=MoCo, SimSiam: 1e-4',set='heads=head., projector., predictor., dense_projector., rotation., ppm.'"`

	CheckpointEvery int    `name:"checkpoint-every" default:"1000" help:"Steps between checkpoints (one is always written at the end and on Ctrl-C)."`
	Keep            int    `name:"keep" default:"2" help:"Checkpoints kept."`
	Seed            uint64 `name:"seed" default:"1" help:"Seed of the initialisation, the data order, the augmentation and every per-step random choice: the same seed gives the same weights."`
	Workers         int    `name:"workers" default:"0" help:"Data loading goroutines (0: one per CPU); results do not depend on it."`
	Out             string `name:"out" required:"" placeholder:"RUN_DIR" help:"Run folder: config.json, metrics.jsonl, checkpoints/, and at the end model.onnx, encoder.onnx (and decoder.onnx) and run.json."`
	Resume          bool   `name:"resume" help:"Continue the run in --out from its latest checkpoint. Flags not given are taken from its config.json; only --iters, --val-every, --checkpoint-every, --keep, --workers, and the LR schedule (--lr, --schedule, …) and --max-grad-norm may change (a change is printed and recorded in run.json)."`

	ProbeFlags       `embed:""` // --probe-every (probe.go)
	train.DeviceFlag `embed:""`
}

// Help is the long help of `ssl4dp train pretext --help`.
func (f *Flags) Help() string {
	return `Pre-trains an encoder (or encoder-decoder) without labels and writes RUN_DIR/encoder.onnx
(input → features, low_level) — and decoder.onnx for plr, edmoco and pledmoco — ready for
'ssl4dp train seg --init'.

Methods: moco (MoCo v2), simclr, byol, simsiam (image-level); plr (patch-level rotation),
edmoco (MoCo on the encoder-decoder's pooled output), plmoco (patch-level MoCo: cells matched
across the two views by their crop geometry), pledmoco (plmoco on the decoder's map);
densecl (MoCo v2 + a dense branch, cells matched by backbone similarity or --match geometry),
pixpro (pixel-to-propagation consistency, BYOL-style target), cp2 (copy-paste: each image's
two views pasted into other images' views; MoCo on the pasted foreground plus a dense loss
among its cells; quick tune: --init a MoCo v2 encoder.onnx).
Each method's augmentation, loss, defaults and sources are in docs/methods.md; the resolved
settings are printed at the start of the run.

Optimiser: SGD with momentum for every method (no LARS). When --lr and --schedule are not
given, each method uses its paper's learning rate scaled to --batch (moco 0.03·B/256,
simsiam 0.05·B/256, simclr, byol and pixpro 0.06·B/128, plr 0.01·B/16, cp2 0.015·B/256; densecl as moco) and a cosine schedule, not
the values listed for those flags (they are train seg's).

A CPU-sized run, and continued pre-training from a torchvision export:

  ssl4dp train pretext --method plmoco --scale cpu --encoder resnet18 --width 0.25 \
      --size 64 --batch 16 --epochs 20 --data synthetic --out runs/plmoco
  ssl4dp train pretext --method moco --encoder resnet50 --init resnet50.onnx \
      --encoder-lr-mult 0.01 --data folder:photos --epochs 20 --out runs/moco-cont

Continue an interrupted run: ssl4dp train pretext --resume --out runs/plmoco`
}

// Run trains as the flags say. given reports whether a flag (by name) was on the command
// line: when resuming, the others come from the run's config.json, and method settings not
// given keep their defaults. ctx cancelled (SIGINT) stops the run after a checkpoint.
func (f *Flags) Run(ctx context.Context, log io.Writer, given func(name string) bool) error {
	if err := f.DeviceFlag.CheckDeviceLayer(log); err != nil {
		return err
	}
	if given == nil {
		given = func(string) bool { return false }
	}
	var saved *Settings
	if f.Resume {
		rc, err := train.ReadRunConfig(f.Out)
		if err != nil {
			return &train.UsageError{Msg: fmt.Sprintf("--resume: %v", err)}
		}
		if saved, err = f.fromSaved(rc, given); err != nil {
			return err
		}
	}
	if !slices.Contains(Methods, f.Method) {
		return usagef("--method %q; want one of %v", f.Method, Methods)
	}
	if f.Data == "" {
		return usagef("--data is required (e.g. --data folder:photos or --data synthetic)")
	}
	ds, err := data.Open(f.Data, data.Options{Split: "train"})
	if err != nil {
		return err
	}
	iters := f.Iters
	if iters == 0 {
		per := ds.Len() / max(f.Batch, 1)
		if per == 0 {
			return usagef("--batch %d is larger than the %d images of %s; lower it", f.Batch, ds.Len(), ds.Name())
		}
		iters = f.Epochs * per
	}
	if !f.Resume {
		if !given("lr") {
			f.LR = DefaultLR(f.Method, f.Batch)
		}
		if !given("schedule") {
			f.Schedule = string(schedule.Cosine)
		}
	}
	c, err := f.methodConfig(saved, given)
	if err != nil {
		return err
	}
	notes := f.fitDefaults(c, saved != nil, given)
	o := Options{Net: Net{Encoder: graphs.Encoder(f.Encoder), Width: f.Width, OutputStride: f.OutputStride,
		Head: graphs.Head(f.Head), DecoderWidth: f.DecoderWidth}, Size: f.Size, Seed: int64(f.Seed), Steps: iters}
	if f.Init != "" {
		if err := f.openInit(&o); err != nil {
			return err
		}
	}
	settings, err := NewSettings(f.Method, o, Scale(f.Scale), f.Init, c)
	if err != nil {
		return err
	}
	task, err := New(f.Method, o, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "ssl4dp train pretext %s\n", f.commandLine(iters))
	f.describe(log, task, c, ds, iters)
	for _, n := range notes {
		fmt.Fprintf(log, "pretext: %s\n", n)
	}
	if task, err = f.withProbe(task, f.Data, f.Out, log); err != nil {
		return err
	}
	return train.Run(ctx, task, train.Config{Dir: f.Out, Data: f.Data, Dataset: ds, Iters: iters, Batch: f.Batch,
		Seed: f.Seed, LR: f.Flags, Optim: f.OptimFlags.Config(), EncoderLRMult: f.EncoderLRMult,
		CheckpointEvery: f.CheckpointEvery, Keep: f.Keep, Resume: f.Resume, Workers: f.Workers,
		Device: f.Device, TF32: f.TF32, Settings: settings, Log: log})
}

// fitDefaults fits the defaults that depend on the batch and the view to them, in a new run
// (a resumed one keeps its recorded settings), and returns what it chose or warns about for
// the log: the key chunks (KeyChunksFor) unless --key-chunks is given, and PLR's grid
// (PLRGrid) unless --grid is given — a given grid whose patches hold fewer than 2×2 cells
// is kept, with a warning.
func (f *Flags) fitDefaults(c Config, resumed bool, given func(string) bool) []string {
	if resumed {
		return nil
	}
	var notes []string
	var mc *MoCoConfig
	switch cc := c.(type) {
	case *MoCoConfig:
		mc = cc
	case *PLMoCoConfig:
		mc = &cc.MoCoConfig
	case *DenseCLConfig:
		mc = &cc.MoCoConfig
	case *CP2Config:
		mc = &cc.MoCoConfig
	case *PLRConfig:
		if !given("grid") && PLRGrid(f.Size, f.OutputStride) != cc.Grid {
			cc.Grid = PLRGrid(f.Size, f.OutputStride)
			notes = append(notes, fmt.Sprintf("grid %d from the view and stride: %d-pixel patches, %g×%g cells of the 1/%d map each (not 4: the default is the largest of 4, 3, 2 with ≥ 2×2 cells per patch)",
				cc.Grid, f.Size/cc.Grid, PLRPatchCells(f.Size, cc.Grid, f.OutputStride), PLRPatchCells(f.Size, cc.Grid, f.OutputStride), f.OutputStride))
		}
		if cells := PLRPatchCells(f.Size, cc.Grid, f.OutputStride); cells < 2 && f.Size%cc.Grid == 0 {
			notes = append(notes, fmt.Sprintf("warning: grid %d on %d-pixel views makes %d-pixel patches, %g×%g cells of the 1/%d map each; with fewer than 2×2 cells per patch the turns are hard to tell apart and the loss can stay at log 4 = 1.386 (chance). Use --grid %d, larger --size or --output-stride 8",
				cc.Grid, f.Size, f.Size/cc.Grid, cells, cells, f.OutputStride, PLRGrid(f.Size, f.OutputStride)))
		}
	}
	if mc != nil && !given("key-chunks") {
		if k := KeyChunksFor(f.Batch, mc.KeyChunks); k != mc.KeyChunks {
			notes = append(notes, fmt.Sprintf("key chunks %d, not the default %d: --batch %d splits into at most %d equal chunks of ≥ 2 images (Shuffle BN needs two per chunk); --key-chunks sets it",
				k, mc.KeyChunks, f.Batch, k))
			mc.KeyChunks = k
		}
	}
	return notes
}

// describe prints what the run will do: network, views, hyper-parameters, init, length.
func (f *Flags) describe(log io.Writer, task Task, c Config, ds data.Dataset, iters int) {
	o := task.Options()
	fmt.Fprintf(log, "pretext: %s on %s; %d-pixel views (%s%s)\n", f.Method, o.Net, o.Size, viewNames[f.Method], cropScale(task.DataTask()))
	fmt.Fprintf(log, "pretext: %s scale: %s\n", f.Scale, c)
	if f.Init != "" && !f.Resume {
		fmt.Fprint(log, task.InitReport())
	}
	fmt.Fprintf(log, "pretext: %d steps of %d images from %s; SGD lr %g (%s), momentum %g, weight decay %g, encoder lr ×%g\n",
		iters, f.Batch, ds.Name(), f.LR, f.Schedule, f.Momentum, f.WeightDecay, f.EncoderLRMult)
}

// cropScale describes the crops of a data task: ", crops of 20–100% of the image area".
func cropScale(t data.Task) string {
	var v data.ViewConfig
	switch d := t.(type) {
	case data.TwoViews:
		v = d.A
	case data.PLR:
		v = d.View
	case cp2Views:
		v = d.fg.A
	default:
		return ""
	}
	return fmt.Sprintf(", crops of %g–%g%% of the image area", 100*v.Scale[0], 100*v.Scale[1])
}

// viewNames say which augmentation each method uses (data's presets).
var viewNames = map[string]string{
	"moco": "MoCo v2 augmentation", "edmoco": "MoCo v2 augmentation", "plmoco": "MoCo v2 augmentation",
	"pledmoco": "MoCo v2 augmentation", "densecl": "MoCo v2 augmentation", "pixpro": "BYOL's asymmetric views", "simsiam": "MoCo v2 augmentation (as SimSiam's code)",
	"simclr": "SimCLR augmentation", "byol": "BYOL's asymmetric views", "plr": "MoCo v2 crop and flip, patches turned",
	"cp2": "MoCo v2 views pasted into boxes of other images' MoCo v2 views",
}

// methodConfig is the method's hyper-parameters: the scale's defaults (or a resumed run's
// settings) with every given flag applied. A given flag the method has no use for is an
// error rather than silently ignored.
func (f *Flags) methodConfig(saved *Settings, given func(string) bool) (Config, error) {
	var c Config
	var err error
	if saved != nil && saved.Method == f.Method {
		c, err = saved.MethodConfig()
	} else {
		c, err = Defaults(f.Method, Scale(f.Scale))
	}
	if err != nil {
		return nil, err
	}
	for _, h := range hyperFlags {
		if !given(h.name) {
			continue
		}
		if !h.set(c, f) {
			return nil, usagef("--%s does not apply to %s", h.name, f.Method)
		}
	}
	return c, nil
}

// hyperFlags apply the method flags to a Config; set reports false when the method has no
// such setting.
var hyperFlags = []struct {
	name string
	set  func(Config, *Flags) bool
}{
	{"dim", func(c Config, f *Flags) bool {
		switch cc := c.(type) {
		case *MoCoConfig:
			cc.Dim = f.Dim
		case *PLMoCoConfig:
			cc.Dim = f.Dim
		case *DenseCLConfig:
			cc.Dim = f.Dim
		case *PixProConfig:
			cc.Dim = f.Dim
		case *CP2Config:
			cc.Dim = f.Dim
		case *SimCLRConfig:
			cc.Dim = f.Dim
		case *BYOLConfig:
			cc.Dim = f.Dim
		case *SimSiamConfig:
			cc.Dim = f.Dim
		default:
			return false
		}
		return true
	}},
	{"hidden", func(c Config, f *Flags) bool {
		switch cc := c.(type) {
		case *MoCoConfig:
			cc.Hidden = f.Hidden
		case *PLMoCoConfig:
			cc.Hidden = f.Hidden
		case *DenseCLConfig:
			cc.Hidden = f.Hidden
		case *PixProConfig:
			cc.Hidden = f.Hidden
		case *SimCLRConfig:
			cc.Hidden = f.Hidden
		case *BYOLConfig:
			cc.Hidden = f.Hidden
		case *SimSiamConfig:
			cc.Hidden = f.Hidden
		default:
			return false
		}
		return true
	}},
	{"predictor-hidden", func(c Config, f *Flags) bool {
		switch cc := c.(type) {
		case *BYOLConfig:
			cc.PredictorHidden = f.PredictorHidden
		case *SimSiamConfig:
			cc.PredictorHidden = f.PredictorHidden
		default:
			return false
		}
		return true
	}},
	{"queue", mocoSetting(func(m *MoCoConfig, f *Flags) { m.Queue = f.Queue })},
	{"key-momentum", mocoSetting(func(m *MoCoConfig, f *Flags) { m.Momentum = f.KeyMomentum })},
	{"key-chunks", mocoSetting(func(m *MoCoConfig, f *Flags) { m.KeyChunks = f.KeyChunks })},
	{"temperature", func(c Config, f *Flags) bool {
		switch cc := c.(type) {
		case *MoCoConfig:
			cc.Temperature = f.Temperature
		case *PLMoCoConfig:
			cc.Temperature = f.Temperature
		case *DenseCLConfig:
			cc.Temperature = f.Temperature
		case *CP2Config:
			cc.Temperature = f.Temperature
		case *SimCLRConfig:
			cc.Temperature = f.Temperature
		default:
			return false
		}
		return true
	}},
	{"tau-base", func(c Config, f *Flags) bool {
		switch cc := c.(type) {
		case *BYOLConfig:
			cc.TauBase = f.TauBase
		case *PixProConfig:
			cc.TauBase = f.TauBase
		default:
			return false
		}
		return true
	}},
	{"grid", func(c Config, f *Flags) bool {
		cc, ok := c.(*PLRConfig)
		if ok {
			cc.Grid = f.Grid
		}
		return ok
	}},
	{"dense-dim", denseSetting(func(p *PLMoCoConfig, f *Flags) { p.DenseDim = f.DenseDim }, func(d *DenseCLConfig, f *Flags) { d.DenseDim = f.DenseDim })},
	{"dense-queue", denseSetting(func(p *PLMoCoConfig, f *Flags) { p.DenseQueue = f.DenseQueue }, func(d *DenseCLConfig, f *Flags) { d.DenseQueue = f.DenseQueue })},
	{"cells-per-image", plmocoSetting(func(p *PLMoCoConfig, f *Flags) { p.CellsPerImage = f.CellsPerImage })},
	{"global-weight", plmocoSetting(func(p *PLMoCoConfig, f *Flags) { p.GlobalWeight = f.GlobalWeight })},
	{"dense-weight", func(c Config, f *Flags) bool {
		switch cc := c.(type) {
		case *DenseCLConfig:
			cc.DenseWeight = f.DenseWeight
		case *CP2Config:
			cc.DenseWeight = f.DenseWeight
		default:
			return false
		}
		return true
	}},
	{"match", denseclSetting(func(d *DenseCLConfig, f *Flags) { d.Match = f.Match })},
	{"pos-threshold", pixproSetting(func(p *PixProConfig, f *Flags) { p.PosThreshold = f.PosThreshold })},
	{"instance-weight", pixproSetting(func(p *PixProConfig, f *Flags) { p.InstanceWeight = f.InstanceWeight })},
}

// mocoSetting applies to MoCo and to PLMoCo's embedded MoCo settings.
func mocoSetting(set func(*MoCoConfig, *Flags)) func(Config, *Flags) bool {
	return func(c Config, f *Flags) bool {
		switch cc := c.(type) {
		case *MoCoConfig:
			set(cc, f)
		case *PLMoCoConfig:
			set(&cc.MoCoConfig, f)
		case *DenseCLConfig:
			set(&cc.MoCoConfig, f)
		case *CP2Config:
			set(&cc.MoCoConfig, f)
		default:
			return false
		}
		return true
	}
}

func plmocoSetting(set func(*PLMoCoConfig, *Flags)) func(Config, *Flags) bool {
	return func(c Config, f *Flags) bool {
		cc, ok := c.(*PLMoCoConfig)
		if ok {
			set(cc, f)
		}
		return ok
	}
}

// fromSaved fills every flag that was not given from a run's config.json, so that
// `--resume --out RUN` alone continues the run as it was started, and returns the run's
// pretext settings. Flags that were given keep their value; the engine then refuses those
// that may not change.
func (f *Flags) fromSaved(rc *train.RunConfig, given func(string) bool) (*Settings, error) {
	var s Settings
	raw, _ := rc.Task.(json.RawMessage)
	if len(raw) == 0 {
		return nil, &train.UsageError{Msg: fmt.Sprintf("--resume: %s/%s has no pretext settings (is it a %s run?)", f.Out, train.ConfigFile, rc.Method)}
	}
	if err := json.Unmarshal(raw, &s); err != nil || s.Method == "" {
		return nil, &train.UsageError{Msg: fmt.Sprintf("--resume: %s/%s has no pretext settings (a %s run?)", f.Out, train.ConfigFile, rc.Method)}
	}
	set := func(name string, apply func()) {
		if !given(name) {
			apply()
		}
	}
	set("method", func() { f.Method = s.Method })
	set("encoder", func() { f.Encoder = s.Net.Encoder })
	set("width", func() { f.Width = s.Net.Width })
	set("output-stride", func() { f.OutputStride = s.Net.OutputStride })
	if s.Net.DecoderWidth > 0 {
		set("head", func() { f.Head = s.Net.Head })
		set("decoder-width", func() { f.DecoderWidth = s.Net.DecoderWidth })
	}
	set("init", func() { f.Init = s.Init })
	set("features", func() { f.Features = s.Net.Features })
	set("size", func() { f.Size = s.Size })
	set("scale", func() { f.Scale = string(s.Scale) })

	set("data", func() { f.Data = rc.Data })
	set("iters", func() { f.Iters = rc.Iters })
	set("batch", func() { f.Batch = rc.Batch })
	set("seed", func() { f.Seed = rc.Seed })
	set("checkpoint-every", func() { f.CheckpointEvery = rc.CheckpointEvery })
	set("keep", func() { f.Keep = rc.Keep })
	set("workers", func() { f.Workers = rc.Workers })

	f.Flags.FromSaved(rc.Schedule, set)
	f.OptimFlags.FromSaved(rc.Optimizer, set)
	return &s, nil
}

// commandLine is the resolved command line, so that every run says exactly what it did.
func (f *Flags) commandLine(iters int) string {
	var c train.CommandLine
	c.Add("method", f.Method)
	if !f.external {
		c.Add("encoder", f.Encoder)
		c.Float("width", f.Width)
		c.Int("output-stride", f.OutputStride)
	}
	if Decoder(f.Method) {
		c.Add("head", f.Head)
		c.Int("decoder-width", f.DecoderWidth)
	}
	if f.Init != "" {
		c.Add("init", f.Init)
	}
	if f.Features != "" {
		c.Add("features", f.Features)
	}
	c.Add("data", f.Data)
	c.Int("iters", iters)
	c.Int("batch", f.Batch)
	c.Int("size", f.Size)
	c.Add("scale", f.Scale)
	f.Flags.WriteArgs(c.Add)
	f.OptimFlags.WriteArgs(&c)
	c.Add("seed", strconv.FormatUint(f.Seed, 10))
	c.Add("out", f.Out)
	if f.Resume {
		c.Switch("resume")
	}
	return c.String()
}
