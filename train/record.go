package train

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
	"github.com/ssl4dp/ssl4dp/train/schedule"
)

// File names at the top of a run folder and inside each checkpoint.
const (
	ConfigFile = "config.json" // the resolved configuration (RunConfig)
	RunFile    = "run.json"    // what a reader of the run needs (RunInfo)
	OptimFile  = "optim.bin"   // checkpoint: optimizer state (train/optim)
	StateFile  = "state.json"  // checkpoint: engine state (step, loader position, …)
)

// RunConfig is config.json: every setting that decides the run, after defaults. A resumed
// run must agree with it in everything but the fields listed in mayChange.
type RunConfig struct {
	Method          string            `json:"method"`
	Data            string            `json:"data"`
	Iters           int               `json:"iters"`
	Batch           int               `json:"batch"`
	Seed            uint64            `json:"seed"`
	Schedule        schedule.Schedule `json:"schedule"`
	Optimizer       OptimizerConfig   `json:"optimizer"`
	CheckpointEvery int               `json:"checkpoint_every"`
	Keep            int               `json:"keep_checkpoints"`
	ValEvery        int               `json:"val_every"`
	Workers         int               `json:"workers"`
	Mean            [3]float32        `json:"mean"`
	Std             [3]float32        `json:"std"`
	Task            any               `json:"task,omitempty"` // Config.Settings; read back as json.RawMessage
}

// OptimizerConfig is config.json's "optimizer".
type OptimizerConfig struct {
	Name          string  `json:"name"`
	Momentum      float64 `json:"momentum"`
	WeightDecay   float64 `json:"weight_decay"`
	Nesterov      bool    `json:"nesterov"`
	MaxGradNorm   float64 `json:"max_grad_norm"`
	DecayAll      bool    `json:"decay_all"`
	EncoderLRMult float64 `json:"encoder_lr_mult"`
}

// mayChange are the config.json fields a resumed run may change: the run's length (and so
// the schedule's) and what only affects logging, checkpointing and speed.
var mayChange = []string{"iters", "schedule.total", "checkpoint_every", "keep_checkpoints", "val_every", "workers"}

// resumeMayChange are the settings a resumed run may also change, when the user passes their
// flags (a resume takes every flag not given from config.json, so a difference here was
// asked for): the LR schedule and gradient clipping, what NonFiniteError advises after a
// blow-up. Each change is recorded (SettingChange) in the checkpoints' state and run.json,
// and printed. The new values apply from the resumed step on, as if they had been the run's
// from the start: a cosine with a new base LR continues at the step's point of that cosine.
var resumeMayChange = []string{"schedule.kind", "schedule.base_lr", "schedule.final_lr", "schedule.power",
	"schedule.milestones", "schedule.gamma", "schedule.warmup", "schedule.warmup_start", "optimizer.max_grad_norm"}

// SettingChange is a setting a resumed run changed (resumeMayChange): at which step, the
// config.json key, and its values before and after as JSON (null: absent).
type SettingChange struct {
	Step int             `json:"step"`
	Key  string          `json:"key"`
	Old  json.RawMessage `json:"old"`
	New  json.RawMessage `json:"new"`
}

func (c SettingChange) String() string { return fmt.Sprintf("%s %s → %s", c.Key, c.Old, c.New) }

// flatten turns a JSON document into path → value text ("optimizer.momentum" → "0.9").
func flatten(doc []byte) (map[string]string, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(doc))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	out := map[string]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x)
			}
		default:
			b, _ := json.Marshal(t)
			out[prefix] = string(b)
		}
	}
	walk("", v)
	return out, nil
}

// configDiff lists, in path order, the fields that differ between a saved config.json and
// the current one, leaving out those a resume may change (mayChange); the differences in
// resumeMayChange are returned apart, as changes (their Step left 0).
func configDiff(saved, now []byte) (refused []string, changes []SettingChange, err error) {
	a, err := flatten(saved)
	if err != nil {
		return nil, nil, err
	}
	b, err := flatten(now)
	if err != nil {
		return nil, nil, err
	}
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var diffs []string
	for k := range keys {
		if slices.Contains(mayChange, k) || a[k] == b[k] {
			continue
		}
		if slices.Contains(resumeMayChange, k) {
			raw := func(v string) json.RawMessage {
				if v == "" {
					return json.RawMessage("null")
				}
				return json.RawMessage(v)
			}
			changes = append(changes, SettingChange{Key: k, Old: raw(a[k]), New: raw(b[k])})
			continue
		}
		show := func(v string) string {
			if v == "" {
				return "(absent)"
			}
			return v
		}
		diffs = append(diffs, fmt.Sprintf("%s: saved %s, now %s", k, show(a[k]), show(b[k])))
	}
	sort.Strings(diffs)
	sort.Slice(changes, func(i, j int) bool { return changes[i].Key < changes[j].Key })
	return diffs, changes, nil
}

// configHash identifies the settings that must not change across a resume (neither
// mayChange nor resumeMayChange).
func configHash(doc []byte) (string, error) {
	return hashExcept(doc, func(k string) bool { return slices.Contains(mayChange, k) || slices.Contains(resumeMayChange, k) })
}

// legacyConfigHash is configHash as it was before a resume could change the schedule and
// clipping (they were hashed): checkpoints written then carry it.
func legacyConfigHash(doc []byte) (string, error) {
	return hashExcept(doc, func(k string) bool { return slices.Contains(mayChange, k) })
}

func hashExcept(doc []byte, skip func(string) bool) (string, error) {
	flat, err := flatten(doc)
	if err != nil {
		return "", err
	}
	keys := make([]string, 0, len(flat))
	for k := range flat {
		if !skip(k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%s\n", k, flat[k])
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// state is a checkpoint's state.json: what the engine needs, beside the task's files and the
// optimizer state, to continue exactly.
type state struct {
	Step       int     `json:"step"` // updates done; the next step to run
	Epoch      int     `json:"loader_epoch"`
	Index      int     `json:"loader_index"`
	Seed       uint64  `json:"seed"`
	ConfigHash string  `json:"config_hash"`
	Version    string  `json:"ssl4dp_version"`
	Method     string  `json:"method"`
	TimeS      float64 `json:"time_s"` // training time so far

	Changes []SettingChange `json:"setting_changes,omitempty"` // what resumes changed, in order
}

// RunInfo is run.json: what a reader of a finished (or stopped) run needs — the export
// writes it into the ONNX model's metadata.
type RunInfo struct {
	Version   string             `json:"ssl4dp_version"`
	Method    string             `json:"method"`
	Data      string             `json:"data"`
	Dataset   string             `json:"dataset"` // the opened training split's name
	Classes   []string           `json:"classes,omitempty"`
	Mean      [3]float32         `json:"mean"` // input normalisation, 0–255 RGB
	Std       [3]float32         `json:"std"`
	Steps     int                `json:"steps"` // updates done
	Iters     int                `json:"iters"` // updates planned
	Batch     int                `json:"batch"`
	Seed      uint64             `json:"seed"`
	Epochs    float64            `json:"epochs"` // passes over the training split
	TimeS     float64            `json:"time_s"`
	FinalLoss float64            `json:"final_loss"`
	Metrics   map[string]float64 `json:"final_metrics,omitempty"` // the last validation
	Outputs   []string           `json:"outputs,omitempty"`       // files in the run folder
	Task      any                `json:"task,omitempty"`          // the task's settings

	Changes []SettingChange `json:"setting_changes,omitempty"` // LR, schedule or clipping changed by a resume, at which step
}

// ReadRunConfig reads RUN_DIR/config.json; its Task is the raw JSON of the task's settings.
// Commands use it to resume a run from its folder alone.
func ReadRunConfig(dir string) (*RunConfig, error) {
	path := filepath.Join(dir, ConfigFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var rc RunConfig
	var raw json.RawMessage
	rc.Task = &raw
	if err := json.Unmarshal(b, &rc); err != nil {
		return nil, fmt.Errorf("train: %s: %w", path, err)
	}
	rc.Task = raw
	return &rc, nil
}

// ReadRunInfo reads RUN_DIR/run.json.
func ReadRunInfo(dir string) (*RunInfo, error) {
	b, err := os.ReadFile(filepath.Join(dir, RunFile))
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	var ri RunInfo
	if err := json.Unmarshal(b, &ri); err != nil {
		return nil, fmt.Errorf("train: %s: %w", filepath.Join(dir, RunFile), err)
	}
	return &ri, nil
}

// writeJSON writes v indented, atomically.
func writeJSON(path string, v any) error {
	b, err := marshalJSON(v)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	return nil
}

func marshalJSON(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("train: encoding JSON: %w", err)
	}
	return append(b, '\n'), nil
}

// isFinite reports whether v is neither NaN nor ±Inf.
func isFinite(v float64) bool { return v-v == 0 }

// finiteOr is v, or alt when v has no JSON encoding (NaN, ±Inf).
func finiteOr(v, alt float64) float64 {
	if !isFinite(v) {
		return alt
	}
	return v
}

// validKey reports whether a task's checkpoint file name is allowed (it must not collide with
// the engine's own files).
func validKey(name string) error {
	if name == OptimFile || name == StateFile {
		return fmt.Errorf("train: the task's checkpoint file %q collides with the engine's", name)
	}
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return fmt.Errorf("train: the task's checkpoint file name %q is not a plain file name", name)
	}
	return nil
}
