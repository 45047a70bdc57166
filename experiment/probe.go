package experiment

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/ssl4dp/ssl4dp/evaluate/features"
	"github.com/ssl4dp/ssl4dp/evaluate/linear"
	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/evaluate/retrieval"
	"github.com/ssl4dp/ssl4dp/graphs"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/onnx/ort"
	"github.com/ssl4dp/ssl4dp/train/seg"
)

// The frozen-encoder protocols a grid can score every row with ([evaluate] probes). Unlike
// fine-tuning they train nothing in the encoder, so they show what pre-training itself
// learnt: at CPU scale full fine-tuning washes out most differences between encoders.
const (
	ProtocolLinear    = "linear"    // a 1×1 convolution + BatchNorm on cached features (evaluate linear)
	ProtocolRetrieval = "retrieval" // nearest train patches' labels (evaluate retrieval)
)

// Protocols are the probe names a grid accepts, in the order results.md lists them.
var Protocols = []string{ProtocolLinear, ProtocolRetrieval}

// ProbeColumns are the probes' column names in results.md (Table.Heads), beside the heads.
var ProbeColumns = map[string]string{ProtocolLinear: "linear probe", ProtocolRetrieval: "retrieval"}

func protocolColumn(protocol string) string {
	if c, ok := ProbeColumns[protocol]; ok {
		return c
	}
	return protocol
}

// Probe is one frozen-encoder protocol of a row at a seed. It scores the row's encoder — its
// chain's last stage's encoder.onnx, its checkpoint, or a random initialisation — and so
// does not depend on a head: one per row, seed and protocol.
type Probe struct {
	Key      string
	Dir      string // probes/<row>/<protocol>/s<seed>-<key>: encoder.onnx (rows without stages), eval.json
	Row      string
	Protocol string
	Seed     uint64
	Data     string   // the grid's (labelled) data: train split for the probe's fitting or bank, val to score
	Stages   []*Stage // the row's chain; the probe reads the last one's encoder.onnx
	Init     string   // a row without stages: its checkpoint, loaded into Net by name ("": random)
	Net      ProbeNet // a row without stages: the encoder graphs builds ([pretrain]'s settings)
}

// ProbeNet is the encoder a row without pre-training is probed with: the one its stages
// would have trained, so that RandomInit is the reference point of every protocol.
type ProbeNet struct {
	Encoder      string  `json:"encoder"`
	Width        float64 `json:"width"`
	OutputStride int     `json:"output_stride"`
}

// ProbeReport is a probe's eval.json.
type ProbeReport struct {
	Protocol string         `json:"protocol"`
	Encoder  string         `json:"encoder"`
	Data     string         `json:"data"`
	Scores   metrics.Scores `json:"scores"`
	Details  any            `json:"details,omitempty"` // the protocol's own report (settings, sizes)
	Seconds  float64        `json:"seconds"`
}

// ProbeInput is what a protocol scores: Encoder (an ONNX file with a "features" output) on
// Data's val split, after fitting (linear) or indexing (retrieval) its train split, with
// every random choice drawn from Seed. Cache is the experiment's feature cache, shared by the
// protocols of one encoder.
type ProbeInput struct {
	Encoder, Data string
	Seed          uint64
	Cache         string
	OrtLib        string
	Threads       int // onnxruntime intra-op threads ([evaluate] threads)
	LinearEpochs  int // [evaluate] linear-epochs (0: the default)
	RetrievalBank int // [evaluate] retrieval-bank (0: the default)
	Log           io.Writer
}

// ProbeFunc runs one protocol.
type ProbeFunc func(ctx context.Context, in ProbeInput) (*ProbeReport, error)

// probeFuncs are the protocols by name.
var probeFuncs = map[string]ProbeFunc{ProtocolLinear: linearProbe, ProtocolRetrieval: retrievalProbe}

// probeCache is the features cache under the experiment folder: a probe's train and val
// features, keyed by the encoder file's hash, computed once for both protocols.
const probeCache = "probes/features-cache"

// linearProbe is `ssl4dp evaluate linear` with its defaults (docs/protocols.md).
func linearProbe(ctx context.Context, in ProbeInput) (*ProbeReport, error) {
	res, err := linear.Evaluate(ctx, linear.Options{Features: probeFeatures(in), TrainOptions: linear.TrainOptions{Seed: in.Seed, Epochs: in.LinearEpochs}})
	if err != nil {
		return nil, err
	}
	return &ProbeReport{Protocol: ProtocolLinear, Encoder: in.Encoder, Data: in.Data, Scores: res.Scores,
		Details: map[string]any{"channels": res.Channels, "train_images": res.TrainImages, "val_images": res.ValImages,
			"steps": res.Steps, "train_loss": res.TrainLoss, "classes": res.Classes}}, nil
}

// retrievalProbe is `ssl4dp evaluate retrieval` with its published defaults.
func retrievalProbe(ctx context.Context, in ProbeInput) (*ProbeReport, error) {
	res, err := retrieval.Evaluate(ctx, retrieval.Options{Features: probeFeatures(in), Seed: in.Seed, BankSize: in.RetrievalBank})
	if err != nil {
		return nil, err
	}
	return &ProbeReport{Protocol: ProtocolRetrieval, Encoder: in.Encoder, Data: in.Data, Scores: res.Scores,
		Details: map[string]any{"channels": res.Channels, "bank_patches": res.BankPatches, "train_images": res.TrainImages,
			"val_images": res.ValImages, "k": res.K, "temperature": res.Temperature, "classes": res.Classes}}, nil
}

func probeFeatures(in ProbeInput) features.Options {
	return features.Options{Encoder: in.Encoder, Data: in.Data, Cache: in.Cache, OrtLib: in.OrtLib,
		Ort: ort.Options{Provider: "cpu", Threads: in.Threads}}
}

// planProbes adds a row's probes at a seed to the plan.
func (p *Plan) planProbes(r *Row, seed uint64, data, origin string, chain []*Stage, initFile string) error {
	if len(p.Grid.Eval.Probes) == 0 {
		return nil
	}
	var net ProbeNet
	if len(chain) == 0 {
		pf, err := parsePretrain(argsFor(p.Grid.Pretrain), true)
		if err != nil {
			return fmt.Errorf("row %q probes: [pretrain]: %v", r.Name, err)
		}
		net = ProbeNet{Encoder: pf.Flags.Encoder, Width: pf.Flags.Width, OutputStride: pf.Flags.OutputStride}
	}
	from := origin
	if n := len(chain); n > 0 {
		from = "stage " + chain[n-1].Key
	}
	for _, proto := range p.Grid.Eval.Probes {
		parts := []string{"probe", proto, from, data, net.Encoder, strconv.FormatFloat(net.Width, 'g', -1, 64), strconv.Itoa(net.OutputStride), strconv.FormatUint(seed, 10)}
		// A shrunk probe is another run; the defaults keep the keys grids had before.
		if e := p.Grid.Eval.LinearEpochs; e > 0 && proto == ProtocolLinear {
			parts = append(parts, "epochs="+strconv.Itoa(e))
		}
		if b := p.Grid.Eval.RetrievalBank; b > 0 && proto == ProtocolRetrieval {
			parts = append(parts, "bank="+strconv.Itoa(b))
		}
		key := hashKey(parts...)
		pr := &Probe{Key: key, Row: r.Name, Protocol: proto, Seed: seed, Data: data, Stages: chain, Net: net,
			Dir: filepath.Join("probes", slug(r.Name), proto, fmt.Sprintf("s%d-%s", seed, key))}
		if len(chain) == 0 {
			pr.Init = initFile
		}
		p.Probes = append(p.Probes, pr)
	}
	return nil
}

// Origin describes the encoder a probe scores, for messages.
func (pr *Probe) Origin() string {
	c := Cell{Stages: pr.Stages, Init: pr.Init}
	return c.Origin()
}

// probe runs one protocol on a row's encoder unless it is finished.
func (r *runner) probe(ctx context.Context, log io.Writer, n int, pr *Probe) error {
	dir := r.path(pr.Dir)
	rec, err := finished(dir, pr.Key)
	if err != nil {
		return err
	}
	header(log, n, r.total, fmt.Sprintf("%s of %s, seed %d (from %s)", protocolColumn(pr.Protocol), pr.Row, pr.Seed, pr.Origin()), dir)
	if rec != nil {
		fmt.Fprintf(log, "finished earlier (%s): mIoU %.2f%%\n", DoneFile, 100*rec.Scores.MIoU)
		r.setDone(pr.Dir, Reused)
		return nil
	}
	run, ok := probeFuncs[pr.Protocol]
	if !ok {
		return &GridError{File: r.p.Grid.Source, Msg: fmt.Sprintf("probe %s: unknown protocol %q", pr.Dir, pr.Protocol)}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	enc, err := r.probeEncoder(pr, dir)
	if err != nil {
		return err
	}
	start := time.Now()
	rep, err := run(ctx, ProbeInput{Encoder: enc, Data: pr.Data, Seed: pr.Seed, Cache: r.path(probeCache),
		OrtLib: r.o.OrtLib, Threads: r.p.Grid.Eval.Threads, LinearEpochs: r.p.Grid.Eval.LinearEpochs,
		RetrievalBank: r.p.Grid.Eval.RetrievalBank, Log: log})
	if err != nil {
		return err
	}
	rep.Seconds = time.Since(start).Seconds()
	if err := writeJSON(filepath.Join(dir, "eval.json"), rep); err != nil {
		return err
	}
	fmt.Fprintf(log, "%s: %s mIoU %.2f%% (%s)\n", pr.Dir, protocolColumn(pr.Protocol), 100*rep.Scores.MIoU, seconds(rep.Seconds))
	rec = &Record{Kind: "probe", Key: pr.Key, Row: pr.Row, Head: protocolColumn(pr.Protocol), Seed: pr.Seed,
		Args: []string{"--protocol=" + pr.Protocol, "--data=" + pr.Data}, TrainS: rep.Seconds, TotalS: rep.Seconds,
		Scores: &rep.Scores, Finished: time.Now().UTC()}
	if err := writeRecord(dir, rec); err != nil {
		return err
	}
	r.setDone(pr.Dir, Ran)
	return nil
}

// probeEncoder is the encoder file a probe scores: the chain's last encoder.onnx, or (for a
// row without stages) graphs' encoder at the probe's seed, with the row's checkpoint loaded
// by name when it has one, written into the probe's folder.
func (r *runner) probeEncoder(pr *Probe, dir string) (string, error) {
	if n := len(pr.Stages); n > 0 {
		return r.path(pr.Stages[n-1].Output(TransferEncoder)), nil
	}
	mp, err := graphs.Build(graphs.Spec{Encoder: graphs.Encoder(pr.Net.Encoder), Width: pr.Net.Width,
		OutputStride: pr.Net.OutputStride, Seed: int64(pr.Seed), Outputs: []string{graphs.Features, graphs.LowLevel}})
	if err != nil {
		return "", err
	}
	if pr.Init != "" {
		init, err := onnx.ReadFile(pr.Init)
		if err != nil {
			return "", err
		}
		if _, err := seg.LoadInit(mp, init, pr.Init); err != nil {
			return "", err
		}
	}
	file := filepath.Join(dir, "encoder.onnx")
	if err := onnx.WriteFile(file, mp); err != nil {
		return "", err
	}
	return file, nil
}

// checkProbes validates [evaluate] probes.
func checkProbes(list []string) error {
	seen := map[string]bool{}
	for _, p := range list {
		if !slices.Contains(Protocols, p) {
			return fmt.Errorf("[evaluate] probes: unknown protocol %q; want %v", p, Protocols)
		}
		if seen[p] {
			return fmt.Errorf("[evaluate] probes: %q is listed twice", p)
		}
		seen[p] = true
	}
	return nil
}
