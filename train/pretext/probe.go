package pretext

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/evaluate/features"
	"github.com/ssl4dp/ssl4dp/evaluate/retrieval"
	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// ProbeFlags add an in-context retrieval probe (evaluate/retrieval, Hummingbird) to a
// pre-training run: a view of the online encoder's dense features during training, with no
// training of its own. The probe reads the weights between steps and draws no random number
// from the run, so the run's weights are the same bits with or without it.
type ProbeFlags struct {
	ProbeEvery int    `name:"probe-every" default:"0" placeholder:"N" help:"Every N steps, write the online encoder to RUN_DIR/probe-encoder.onnx and score it by in-context retrieval ('ssl4dp evaluate retrieval': k 30, temperature 0.02, train split as the memory bank) on --probe-data's val split; logs probe_miou to metrics.jsonl (records of kind \"probe\") and the progress output. 0: off."`
	ProbeData  string `name:"probe-data" placeholder:"SPEC" help:"Labelled data with train and val splits for --probe-every (default: --data, which then needs labels, e.g. synthetic)."`
	ProbeLimit int    `name:"probe-limit" default:"256" help:"Images of each probe split used (0: all); the exact search costs bank × queries × channels."`
}

// probeFile is the encoder the probe scores, rewritten at each probe.
const probeFile = "probe-encoder.onnx"

// KeyProbeMIoU is the probe's mIoU in metrics.jsonl's probe records.
const KeyProbeMIoU = "probe_miou"

// probeRecord is one line of metrics.jsonl; runlog's reader skips kinds it does not know.
type probeRecord struct {
	Kind      string   `json:"kind"` // "probe"
	Step      int      `json:"step"` // 0-based index of the update after which it ran
	ProbeMIoU *float64 `json:"probe_miou"`
	Seconds   float64  `json:"probe_s"`
}

// withProbe returns task itself when the probe is off, or task with the probe after every
// ProbeEvery-th step.
func (p ProbeFlags) withProbe(task Task, dataSpec, dir string, log io.Writer) (Task, error) {
	if p.ProbeEvery < 0 || p.ProbeLimit < 0 {
		return nil, usagef("--probe-every %d, --probe-limit %d: want values ≥ 0", p.ProbeEvery, p.ProbeLimit)
	}
	if p.ProbeEvery == 0 {
		return task, nil
	}
	spec := p.ProbeData
	if spec == "" {
		spec = dataSpec
	}
	for _, split := range []string{"train", "val"} {
		ds, err := data.Open(spec, data.Options{Split: split})
		if err != nil {
			return nil, usagef("--probe-data %s: %v", spec, err)
		}
		if !data.Labelled(ds) {
			return nil, usagef("--probe-every needs labelled data; %s has no labels: give --probe-data (e.g. voc:DIR or synthetic)", ds.Name())
		}
	}
	fmt.Fprintf(log, "pretext: retrieval probe every %d steps on %s (first %d images of train and val)\n", p.ProbeEvery, spec, p.ProbeLimit)
	return &probed{Task: task, every: p.ProbeEvery, dir: dir, log: log,
		opts: retrieval.Options{Features: features.Options{Data: spec, Limit: p.ProbeLimit}}}, nil
}

// probed is a pretext task with the probe run in AfterStep.
type probed struct {
	Task
	every int
	dir   string
	log   io.Writer
	opts  retrieval.Options
}

// HeadPrefixes passes the wrapped task's parameter groups on (train.HeadPrefixer).
func (p *probed) HeadPrefixes() []string {
	if hp, ok := p.Task.(train.HeadPrefixer); ok {
		return hp.HeadPrefixes()
	}
	return nil
}

// Monitors passes the wrapped task's monitors on (train.Monitorer): the wrapper must not hide
// them.
func (p *probed) Monitors() ([]runlog.Monitor, error) {
	if m, ok := p.Task.(train.Monitorer); ok {
		return m.Monitors()
	}
	return nil, nil
}

// KeepNodes passes on what the wrapped task reads after a pass (train.Keeper), or the memory
// plan would let the pass overwrite its monitors' logits.
func (p *probed) KeepNodes() G.Nodes {
	if k, ok := p.Task.(train.Keeper); ok {
		return k.KeepNodes()
	}
	return nil
}

// OnDevice passes a device run on to the wrapped task (train.DeviceTask); the probe itself
// runs on the host after the step, from the online network's host values.
func (p *probed) OnDevice(dev string) error {
	if dt, ok := p.Task.(train.DeviceTask); ok {
		return dt.OnDevice(dev)
	}
	return errorf("--device %s: task %s does not run on a device; use --device cpu", dev, p.Task.Name())
}

// AfterStep runs the task's own AfterStep, then the probe after every every-th update.
func (p *probed) AfterStep(step int) error {
	if err := p.Task.AfterStep(step); err != nil {
		return err
	}
	if (step+1)%p.every != 0 {
		return nil
	}
	start := time.Now()
	miou, err := p.probe()
	if err != nil {
		return fmt.Errorf("pretext: retrieval probe after step %d: %w", step+1, err)
	}
	rec := probeRecord{Kind: "probe", Step: step, Seconds: time.Since(start).Seconds()}
	if !math.IsNaN(miou) {
		rec.ProbeMIoU = &miou
	}
	if err := appendRecord(filepath.Join(p.dir, runlog.FileName), rec); err != nil {
		return err
	}
	fmt.Fprintf(p.log, "probe after step %d: %s %.2f%% (retrieval, %.1fs)\n", step+1, KeyProbeMIoU, 100*miou, rec.Seconds)
	return nil
}

// probe writes the online encoder and scores it.
func (p *probed) probe() (float64, error) {
	files, err := p.Task.Outputs()
	if err != nil {
		return 0, err
	}
	enc, ok := files[EncoderFile]
	if !ok {
		return 0, errorf("the task hands on no %s", EncoderFile)
	}
	path := filepath.Join(p.dir, probeFile)
	if err := atomicfile.WriteFile(path, enc, 0o644); err != nil {
		return 0, err
	}
	o := p.opts
	o.Features.Encoder = path
	res, err := retrieval.Evaluate(context.Background(), o)
	if err != nil {
		return 0, err
	}
	return res.Scores.MIoU, nil
}

// appendRecord adds one line to metrics.jsonl in a single write (the engine's writer also
// appends, so lines never interleave).
func appendRecord(path string, rec probeRecord) error {
	line, err := json.Marshal(rec)
	if err != nil {
		return errorf("%w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return errorf("%w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return errorf("%s: %w", path, err)
	}
	return f.Close()
}
