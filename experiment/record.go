package experiment

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
)

// DoneFile is the completion record of a stage or cell folder. It is written atomically after
// every output of the run, so its presence means the folder is finished and is never run
// again; a folder without it is continued with the engine's --resume.
const DoneFile = "done.json"

// Record is done.json.
type Record struct {
	Kind   string   `json:"kind"` // "stage", "cell" or "probe"
	Key    string   `json:"key"`
	Method string   `json:"method,omitempty"` // stage: the pretext method
	Row    string   `json:"row,omitempty"`    // cell
	Head   string   `json:"head,omitempty"`   // cell; a probe's results.md column
	Seed   uint64   `json:"seed"`
	Args   []string `json:"args"` // the command's flags (without --out)
	// Device is where it trained (cpu, emulated, cuda): recorded, not part of Key, so the
	// same grid on another device reuses the folder.
	Device string `json:"device,omitempty"`

	Steps  int     `json:"steps"`
	Epochs float64 `json:"epochs"`
	// TrainS is the training time from run.json (it continues across resumes); TotalS adds
	// a cell's export and evaluation.
	TrainS float64 `json:"train_s"`
	TotalS float64 `json:"total_s"`

	// A cell's evaluation of its exported model with onnxruntime, and the training run's own
	// last validation (the same protocol with Gorgonia; they agree to ~1e-6).
	Scores    *metrics.Scores `json:"scores,omitempty"`
	TrainMIoU *float64        `json:"train_miou,omitempty"`

	Finished time.Time `json:"finished"`
}

// readRecord reads dir/done.json; (nil, nil) when the folder is not finished.
func readRecord(dir string) (*Record, error) {
	b, err := os.ReadFile(filepath.Join(dir, DoneFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("experiment: %w", err)
	}
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("experiment: %s: %w (delete it to redo the run)", filepath.Join(dir, DoneFile), err)
	}
	return &r, nil
}

// writeRecord writes dir/done.json atomically.
func writeRecord(dir string, r *Record) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("experiment: encoding %s: %w", DoneFile, err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, DoneFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("experiment: %w", err)
	}
	return nil
}

// finished reads a folder's record and checks that it belongs to the run planned there.
func finished(dir, key string) (*Record, error) {
	r, err := readRecord(dir)
	if err != nil || r == nil {
		return nil, err
	}
	if r.Key != key {
		return nil, fmt.Errorf("experiment: %s is the record of run %s, not %s; was the folder copied? delete it to redo the run",
			filepath.Join(dir, DoneFile), r.Key, key)
	}
	return r, nil
}

// States says, for every stage and cell folder of the plan under out, "done" (its
// completion record), "partial" (a run started there: it will be resumed) or "to do".
func States(p *Plan, out string) (map[string]string, error) {
	st := map[string]string{}
	check := func(rel, key, runDir string) error {
		dir := filepath.Join(out, rel)
		rec, err := finished(dir, key)
		switch {
		case err != nil:
			return err
		case rec != nil:
			st[rel] = "done"
		case exists(filepath.Join(dir, runDir, "config.json")):
			st[rel] = "partial"
		default:
			st[rel] = "to do"
		}
		return nil
	}
	for _, s := range p.Stages {
		if err := check(s.Dir, s.Key, "."); err != nil {
			return nil, err
		}
	}
	for _, c := range p.Cells {
		if err := check(c.Dir, c.Key, "train"); err != nil {
			return nil, err
		}
	}
	for _, pr := range p.Probes {
		if err := check(pr.Dir, pr.Key, "."); err != nil {
			return nil, err
		}
	}
	return st, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
