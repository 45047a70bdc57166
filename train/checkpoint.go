package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
	"github.com/ssl4dp/ssl4dp/train/checkpoint"
)

// saveCheckpoint is checkpoint.Save; tests replace it to simulate a failing disk.
var saveCheckpoint = checkpoint.Save

// checkpoint saves the task's files, the optimizer state and the engine state as the
// checkpoint for the current step.
func (r *runner) checkpoint() error {
	if err := r.stepper.syncHost(); err != nil {
		return err
	}
	files, err := r.task.Checkpoint()
	if err != nil {
		return fmt.Errorf("train: checkpoint at step %d: %w", r.st.Step, err)
	}
	all := make(map[string][]byte, len(files)+2)
	for name, b := range files {
		if err := validKey(name); err != nil {
			return err
		}
		all[name] = b
	}
	var ob bytes.Buffer
	if err := r.stepper.opt.SaveState(&ob); err != nil {
		return err
	}
	all[OptimFile] = ob.Bytes()
	st := r.st
	st.TimeS = r.timeS()
	if all[StateFile], err = marshalJSON(st); err != nil {
		return err
	}
	dir, err := saveCheckpoint(r.cfg.Dir, r.st.Step, all, r.cfg.Keep)
	if err != nil {
		if r.progress != nil {
			r.progress.Finish()
		}
		return err
	}
	if err := r.metrics.Sync(); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	r.lastCkpt, r.lastCkptStep = dir, r.st.Step
	// run.json describes the run so far, so that a stopped run can be exported too; the
	// end of the run rewrites it with the outputs.
	return r.writeRunInfo(nil)
}

// restore loads the latest checkpoint of a resumed run into the task, the optimizer and the
// engine state. A run killed before its first checkpoint starts again from step 0.
func (r *runner) restore() error {
	dir, step, err := checkpoint.Latest(r.cfg.Dir)
	if errors.Is(err, checkpoint.ErrNone) {
		fmt.Fprintf(r.log, "  --resume: %s has no checkpoint yet; starting from step 0\n", r.cfg.Dir)
		return nil
	}
	if err != nil {
		return err
	}
	files, err := readDir(dir)
	if err != nil {
		return err
	}
	var st state
	if err := json.Unmarshal(files[StateFile], &st); err != nil {
		return fmt.Errorf("train: %s: %w", filepath.Join(dir, StateFile), err)
	}
	switch {
	case st.Step != step:
		return fmt.Errorf("train: %s says step %d, its folder step %d", filepath.Join(dir, StateFile), st.Step, step)
	case st.ConfigHash != r.hash && st.ConfigHash != r.oldHash:
		return usageErrorf("--resume: checkpoint %s was written with other settings (config hash %s, now %s); was %s edited?",
			dir, st.ConfigHash, r.hash, ConfigFile)
	case st.Method != r.task.Name():
		return usageErrorf("--resume: checkpoint %s is a %s run, not %s", dir, st.Method, r.task.Name())
	case st.Step > r.cfg.Iters:
		return usageErrorf("--resume: checkpoint %s is at step %d, past --iters %d", dir, st.Step, r.cfg.Iters)
	}
	if err := r.stepper.opt.LoadState(bytes.NewReader(files[OptimFile])); err != nil {
		return fmt.Errorf("train: %s: %w", dir, err)
	}
	delete(files, OptimFile)
	delete(files, StateFile)
	if err := r.task.Restore(files); err != nil {
		return fmt.Errorf("train: restoring %s: %w", dir, err)
	}
	st.Version, st.ConfigHash = r.st.Version, r.hash
	r.st = st
	r.lastCkpt, r.lastCkptStep = dir, st.Step
	return nil
}

// readDir reads every file of a checkpoint folder.
func readDir(dir string) (map[string][]byte, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	files := map[string][]byte{}
	for _, e := range ents {
		if !e.Type().IsRegular() || e.Name()[0] == '.' {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
		files[e.Name()] = b
	}
	for _, need := range []string{OptimFile, StateFile} {
		if _, ok := files[need]; !ok {
			return nil, fmt.Errorf("train: checkpoint %s has no %s", dir, need)
		}
	}
	return files, nil
}

// writeOutputs writes the task's final files into the run folder, each atomically, and
// returns their names in order.
func writeOutputs(dir string, outs map[string][]byte) ([]string, error) {
	names := make([]string, 0, len(outs))
	for name := range outs {
		if err := validKey(name); err != nil {
			return nil, err
		}
		if name == ConfigFile || name == RunFile {
			return nil, fmt.Errorf("train: the task's output %q collides with the engine's", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := atomicfile.WriteFile(filepath.Join(dir, name), outs[name], 0o644); err != nil {
			return nil, fmt.Errorf("train: %w", err)
		}
	}
	return names, nil
}

// writeRunInfo writes run.json.
func (r *runner) writeRunInfo(outputs []string) error {
	ri := RunInfo{Version: r.st.Version, Method: r.task.Name(), Data: r.cfg.Data, Dataset: r.ds.Name(),
		Classes: r.ds.Classes(), Mean: r.cfg.Mean, Std: r.cfg.Std, Steps: r.st.Step, Iters: r.cfg.Iters,
		Batch: r.cfg.Batch, Seed: r.cfg.Seed, Epochs: r.epoch(), TimeS: r.timeS(), FinalLoss: finiteOr(r.lastLoss, 0),
		Outputs: outputs, Task: r.cfg.Settings, Changes: r.st.Changes}
	if ri.Data == "" {
		ri.Data = ri.Dataset
	}
	for k, v := range r.lastVal {
		if isFinite(v) {
			if ri.Metrics == nil {
				ri.Metrics = map[string]float64{}
			}
			ri.Metrics[k] = v
		}
	}
	return writeJSON(filepath.Join(r.cfg.Dir, RunFile), ri)
}
