// Package checkpoint stores training checkpoints so that a crash, a kill or a full disk never
// leaves a run without a usable one.
//
// Layout inside a run folder:
//
//	RUN/checkpoints/step-00000100/   model.onnx, optim.bin, state.json, … (any named files)
//	RUN/checkpoints/step-00000200/
//	RUN/checkpoints/latest           "step-00000200\n"
//
// Save writes every file of a new step folder (each fsynced), syncs the folder, and only then
// replaces `latest` atomically. A save that fails half-way — disk full, SIGKILL — leaves
// `latest` pointing at the previous complete checkpoint; the partial folder is removed on
// failure, or ignored (and cleaned up by the next Save) after a kill. Older checkpoints beyond
// Keep are deleted only after the new one is complete.
package checkpoint

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/ssl4dp/ssl4dp/internal/atomicfile"
)

const (
	subdir     = "checkpoints"
	latestFile = "latest"
	prefix     = "step-"
)

// ErrNone means the run folder has no complete checkpoint.
var ErrNone = errors.New("checkpoint: no checkpoint")

// Save writes files as the checkpoint for step and makes it the latest. keep ≥ 1 is how many
// complete checkpoints to retain. It returns the checkpoint's folder.
func Save(runDir string, step int, files map[string][]byte, keep int) (string, error) {
	if keep < 1 {
		keep = 1
	}
	root := filepath.Join(runDir, subdir)
	if err := os.MkdirAll(root, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	name := fmt.Sprintf("%s%08d", prefix, step)
	dir := filepath.Join(root, name)
	// A folder of the same name is a leftover from a killed save (or a re-save of the same
	// step after resume): it is not referenced by `latest` unless complete, so rebuild it aside.
	tmp := dir + ".partial"
	os.RemoveAll(tmp)
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	fail := func(err error) (string, error) {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("checkpoint: saving step %d in %s: %w (the previous checkpoint is intact)", step, root, err)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		if n == "" || strings.ContainsAny(n, `/\`) {
			return fail(fmt.Errorf("bad file name %q", n))
		}
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := atomicfile.WriteFile(filepath.Join(tmp, n), files[n], 0o644); err != nil {
			return fail(err)
		}
	}
	if cur, _, err := Latest(runDir); err == nil && cur == dir {
		// Re-saving the step `latest` names: move the old one aside first.
		if err := os.Rename(dir, dir+".old"); err != nil {
			return fail(err)
		}
		defer os.RemoveAll(dir + ".old")
	} else {
		os.RemoveAll(dir)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return fail(err)
	}
	syncDir(root)
	if err := atomicfile.WriteFile(filepath.Join(root, latestFile), []byte(name+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	prune(root, name, keep)
	return dir, nil
}

// Latest returns the latest complete checkpoint's folder and step, or ErrNone.
func Latest(runDir string) (string, int, error) {
	root := filepath.Join(runDir, subdir)
	b, err := os.ReadFile(filepath.Join(root, latestFile))
	if errors.Is(err, fs.ErrNotExist) {
		return "", 0, ErrNone
	}
	if err != nil {
		return "", 0, fmt.Errorf("checkpoint: %w", err)
	}
	name := strings.TrimSpace(string(b))
	step, err := strconv.Atoi(strings.TrimPrefix(name, prefix))
	if !strings.HasPrefix(name, prefix) || err != nil {
		return "", 0, fmt.Errorf("checkpoint: %s names %q, not a checkpoint folder", filepath.Join(root, latestFile), name)
	}
	dir := filepath.Join(root, name)
	if _, err := os.Stat(dir); err != nil {
		return "", 0, fmt.Errorf("checkpoint: %s names %s, which is missing: %w", filepath.Join(root, latestFile), dir, err)
	}
	return dir, step, nil
}

// Load reads the named files of the latest checkpoint.
func Load(runDir string, names ...string) (map[string][]byte, int, error) {
	dir, step, err := Latest(runDir)
	if err != nil {
		return nil, 0, err
	}
	out := make(map[string][]byte, len(names))
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, 0, fmt.Errorf("checkpoint: %s is incomplete: %w", dir, err)
		}
		out[n] = b
	}
	return out, step, nil
}

// prune deletes complete checkpoints older than the newest keep, and any leftovers of killed
// saves, never touching the current one.
func prune(root, current string, keep int) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return
	}
	var steps []string
	for _, e := range ents {
		n := e.Name()
		switch {
		case !e.IsDir() || !strings.HasPrefix(n, prefix):
		case strings.HasSuffix(n, ".partial") || strings.HasSuffix(n, ".old"):
			os.RemoveAll(filepath.Join(root, n))
		case n <= current:
			steps = append(steps, n)
		}
	}
	sort.Strings(steps)
	for i := 0; i < len(steps)-keep; i++ {
		if steps[i] != current {
			os.RemoveAll(filepath.Join(root, steps[i]))
		}
	}
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}
