package bench

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

// sessions are the measurement sessions docs/benchmarks.md quotes (testdata/session_run.sh made
// each one's reports, testdata/session_table.py the docs' tables).
const sessions = "testdata/session_20*" // one folder per session, named by its date

// The committed reports still decode into today's report types (a renamed or retyped field
// means the docs' tables no longer match the code, and the session must be run again), and
// scripts/bench_torch.py writes the same field names as Go for the same quantities, so
// table.py reads both sides alike.
func TestSessionReports(t *testing.T) {
	dirs, err := filepath.Glob(sessions)
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no measurement sessions in %s (%v)", sessions, err)
	}
	for _, session := range dirs {
		t.Run(filepath.Base(session), func(t *testing.T) { checkSession(t, session) })
	}
}

func checkSession(t *testing.T, session string) {
	for _, c := range []struct {
		glob string
		into func() any
		// fields PyTorch's report has and Go's does not
		torchOnly []string
	}{
		{"go_train_*.json", func() any { return new(TrainReport) }, []string{"env.python", "env.torch", "env.torchvision", "threads"}},
		{"ort_infer_*.json", func() any { return new(InferReport) }, []string{"env.python", "env.torch", "env.torchvision", "runtime", "results.peak_reset"}},
	} {
		files, err := filepath.Glob(filepath.Join(session, c.glob))
		if err != nil || len(files) != 4 {
			t.Fatalf("%s: %d files (%v), want 4", c.glob, len(files), err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(c.into()); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			_, rest, _ := strings.Cut(filepath.Base(f), "_") // go_train_t1_1.json → train_t1_1.json
			torch := filepath.Join(session, "torch_"+rest)
			goKeys, torchKeys := jsonKeys(t, f), jsonKeys(t, torch)
			for _, k := range torchKeys {
				if !slices.Contains(goKeys, k) && !slices.Contains(c.torchOnly, k) {
					t.Errorf("%s has %q, which %s lacks", torch, k, f)
				}
			}
		}
	}
}

// jsonKeys lists the dotted paths of every object key in a JSON file (array elements share
// their array's path).
func jsonKeys(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	seen := map[string]bool{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				seen[p] = true
				walk(p, e)
			}
		case []any:
			for _, e := range x {
				walk(prefix, e)
			}
		}
	}
	walk("", v)
	var keys []string
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// The training-step sessions (testdata/train_session.sh; docs/benchmarks.md's CPU training
// step section) decode into today's TrainReport, and PyTorch's reports use Go's field names.
func TestTrainSessionReports(t *testing.T) {
	dirs, err := filepath.Glob("testdata/train_session_20*/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no training-step sessions (%v)", err)
	}
	for _, dir := range dirs {
		files, err := filepath.Glob(filepath.Join(dir, "go_*.json"))
		if err != nil || len(files) != 6 {
			t.Fatalf("%s: %d ssl4dp reports (%v), want 6 (train_session.sh)", dir, len(files), err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			var r TrainReport
			if err := dec.Decode(&r); err != nil {
				t.Errorf("%s: %v", f, err)
			}
			if r.Profile == nil || len(r.Profile.Ops) == 0 {
				t.Errorf("%s: no profile (train_session.sh runs --profile)", f)
			}
			torch := filepath.Join(dir, "torch_"+strings.TrimPrefix(filepath.Base(f), "go_"))
			if _, err := os.Stat(torch); err != nil {
				continue // an ssl4dp-only session (TORCH=0)
			}
			goKeys := jsonKeys(t, f)
			for _, k := range jsonKeys(t, torch) {
				if !slices.Contains(goKeys, k) && !slices.Contains([]string{"env.python", "env.torch", "env.torchvision", "threads"}, k) {
					t.Errorf("%s has %q, which %s lacks", torch, k, f)
				}
			}
		}
	}
}
