package seg

import (
	"encoding/json"
	"fmt"

	"github.com/ssl4dp/ssl4dp/train"
)

// fromSaved fills every flag that was not given on the command line from a run's
// config.json, so that `--resume --out RUN` alone continues the run as it was started. Flags
// that were given keep their value; the engine then refuses those that may not change.
func (f *Flags) fromSaved(rc *train.RunConfig, given func(string) bool) error {
	var tc Config
	raw, _ := rc.Task.(json.RawMessage)
	if len(raw) == 0 {
		return &train.UsageError{Msg: fmt.Sprintf("--resume: %s/%s has no segmentation settings (is it a %s run?)", f.Out, train.ConfigFile, rc.Method)}
	}
	if err := json.Unmarshal(raw, &tc); err != nil {
		return &train.UsageError{Msg: fmt.Sprintf("--resume: %s/%s: task settings: %v", f.Out, train.ConfigFile, err)}
	}
	set := func(name string, apply func()) {
		if given == nil || !given(name) {
			apply()
		}
	}
	if tc.Model != "" {
		set("model", func() { f.Model = tc.Model })
	} else {
		set("encoder", func() { f.Encoder = string(tc.Encoder) })
		set("width", func() { f.Width = tc.Width })
		set("output-stride", func() { f.OutputStride = tc.OutputStride })
		set("head", func() { f.Head = string(tc.Head) })
	}
	set("init", func() { f.Init = tc.Init })
	set("features", func() { f.Features = tc.Features })
	set("crop", func() { f.Crop = tc.Crop })
	set("labels", func() {
		if f.Labels = tc.Labels; f.Labels == "" {
			f.Labels = "all"
		}
	})
	set("val-batch", func() { f.ValBatch = tc.ValBatch })
	set("val-size", func() { f.ValSize = tc.ValSize })
	set("val-limit", func() { f.ValLimit = tc.ValLimit })

	set("data", func() { f.Data = rc.Data })
	set("iters", func() { f.Iters = rc.Iters })
	set("batch", func() { f.Batch = rc.Batch })
	set("seed", func() { f.Seed = rc.Seed })
	set("checkpoint-every", func() { f.CheckpointEvery = rc.CheckpointEvery })
	set("keep", func() { f.Keep = rc.Keep })
	set("val-every", func() { f.ValEvery = rc.ValEvery })
	set("workers", func() { f.Workers = rc.Workers })

	f.Flags.FromSaved(rc.Schedule, set)
	f.OptimFlags.FromSaved(rc.Optimizer, set)
	return nil
}
