package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/internal/blas"
	"github.com/ssl4dp/ssl4dp/internal/testenv"
)

// slurmGrid is 2 rows × 1 head × 2 seeds, a few steps each: two MoCo stages and four cells.
// Fine-tuning runs long enough (20 steps at lr 0.2) that the four cells score differently,
// so that equal tables mean equal runs, not four models that all predict background.
const slurmGrid = `
title = "slurm backend test"
data = "synthetic:size=32,n=32,val=8,classes=3,objects=2"
seeds = [1, 2]

[pretrain]
encoder = "resnet18"
width = 0.125
size = 32
batch = 8
iters = 3
scale = "cpu"

[finetune]
encoder = "resnet18"
width = 0.125
crop = 32
batch = 4
iters = 20
lr = 0.2
val-every = 0

[evaluate]
overlays = -1

[slurm]
cpus-per-task = 1

[[head]]
name = "MoCoFCN"
head = "fcn"

[[row]]
name = "RandomInit"

[[row]]
name = "MoCo v2"
stages = [{ method = "moco" }]
`

// TestSlurmBackend runs a tiny grid through a real one-node Slurm on this machine
// (scripts/slurm_local.sh: Debian's slurm-wlm and munge, installed when missing): the
// --slurm results are the local backend's bit for bit; a cancelled job leaves its
// dependants blocked and the report incomplete, and submitting again finishes the grid with
// the same numbers. Needs root (munged, slurmd); SSL4DP_STRICT=1 makes its absence a failure.
func TestSlurmBackend(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Slurm cluster and runs a grid three times (-short)")
	}
	lib := testenv.ORTLibrary(t)
	if os.Geteuid() != 0 {
		msg := "the Slurm integration test starts munged, slurmctld and slurmd, which needs root; run `just test` as root"
		if testenv.Strict() {
			t.Fatal(msg + " (SSL4DP_STRICT=1)")
		}
		t.Skip(msg)
	}
	root := testenv.RepoRoot(t)
	work := t.TempDir()
	bin := filepath.Join(work, "ssl4dp")
	tags := ""
	if strings.Contains(blas.Name, "pure Go") {
		tags = "purego"
	}
	build := exec.Command("go", "build", "-tags", tags, "-o", bin, "./cmd/ssl4dp")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	cluster := filepath.Join(work, "cluster")
	script := filepath.Join(root, "scripts", "slurm_local.sh")
	t.Cleanup(func() {
		if out, err := exec.Command(script, "stop", cluster).CombinedOutput(); err != nil {
			t.Errorf("slurm_local.sh stop: %v\n%s", err, out)
		}
	})
	start := exec.Command(script, "start", cluster)
	// Two job slots on any machine, so that the job the test cancels is still queued.
	start.Env = append(os.Environ(), "SLURM_LOCAL_CPUS=2")
	if out, err := start.CombinedOutput(); err != nil {
		t.Fatalf("slurm_local.sh start: %v\n%s", err, out)
	}
	t.Setenv("SLURM_CONF", filepath.Join(cluster, "slurm.conf"))
	t.Setenv("ONNXRUNTIME_SHARED_LIBRARY_PATH", lib)
	grid := filepath.Join(work, "grid.toml")
	if err := os.WriteFile(grid, []byte(slurmGrid), 0o644); err != nil {
		t.Fatal(err)
	}
	ssl4dp := func(args ...string) string {
		t.Helper()
		var out, errOut bytes.Buffer
		cmd := exec.Command(bin, append([]string{"experiment", grid}, args...)...)
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			t.Fatalf("ssl4dp experiment %v: %v\n%s%s", args, err, out.String(), errOut.String())
		}
		return out.String() + errOut.String()
	}
	// wait polls --status until no job is queued or running.
	wait := func(dir string) string {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute)
		for {
			st := ssl4dp("--out", dir, "--status")
			if !strings.Contains(st, " running ") && !strings.Contains(st, " pending ") {
				return st
			}
			if time.Now().After(deadline) {
				q, _ := exec.Command("squeue", "--states=all").CombinedOutput()
				t.Fatalf("%s: jobs still queued after 3 minutes:\n%s\n%s", dir, st, q)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}

	local := filepath.Join(work, "local")
	ssl4dp("--out", local, "--jobs", "2")

	viaSlurm := filepath.Join(work, "slurm")
	if sub := ssl4dp("--out", viaSlurm, "--slurm"); !strings.Contains(sub, "6 submitted, 0 kept") {
		t.Fatalf("first submission:\n%s", sub)
	}
	if st := wait(viaSlurm); !strings.Contains(st, ": 7 done\n") {
		t.Fatalf("status after the jobs:\n%s", st)
	}
	sameResults(t, local, viaSlurm)
	logs, _ := filepath.Glob(filepath.Join(viaSlurm, "slurm", "logs", "stages_moco-s1-*.log"))
	if len(logs) != 1 {
		t.Fatalf("stage logs %v", logs)
	}
	if b, _ := os.ReadFile(logs[0]); !strings.Contains(string(b), "pre-train moco, seed 1") {
		t.Errorf("the stage's log does not say which stage it is:\n%s", b)
	}

	// Cancel the seed-2 stage right after submission (with two job slots it is still queued
	// behind the seed-1 jobs): its cell is cancelled by Slurm, the report job writes what
	// finished, and a second submission runs the two again.
	third := filepath.Join(work, "third")
	ssl4dp("--out", third, "--slurm")
	var jobs struct {
		Jobs map[string]struct{ ID string } `json:"jobs"`
	}
	readJSONFile(t, filepath.Join(third, "slurm", "jobs.json"), &jobs)
	var stage string
	for dir, j := range jobs.Jobs {
		if strings.HasPrefix(dir, "stages/moco-s2-") {
			stage = j.ID
		}
	}
	if out, err := exec.Command("scancel", stage).CombinedOutput(); err != nil || stage == "" {
		t.Fatalf("scancel %q: %v\n%s", stage, err, out)
	}
	st := wait(third)
	if !strings.Contains(st, "failed   stage stages/moco-s2-") || !strings.Contains(st, "blocked  cell cells/moco-v2/mocofcn/s2-") ||
		!strings.Contains(st, ": 5 done, 1 failed, 1 blocked") {
		t.Fatalf("status after cancelling job %s:\n%s", stage, st)
	}
	if md, _ := os.ReadFile(filepath.Join(third, "results.md")); !strings.Contains(string(md), "**Incomplete:** 1 planned cells") {
		t.Errorf("the report job did not write the incomplete table:\n%s", md)
	}
	if sub := ssl4dp("--out", third, "--slurm"); !strings.Contains(sub, "2 submitted, 0 kept (queued or running), 4 finished") {
		t.Fatalf("second submission:\n%s", sub)
	}
	if st := wait(third); !strings.Contains(st, ": 7 done\n") {
		t.Fatalf("status after resubmitting:\n%s", st)
	}
	sameResults(t, local, third)
}

func readJSONFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// sameResults compares two experiment folders: results.md up to its timing section, and
// every cell's scores in done.json exactly (float64 ==).
func sameResults(t *testing.T, a, b string) {
	t.Helper()
	table := func(dir string) string {
		md, err := os.ReadFile(filepath.Join(dir, "results.md"))
		if err != nil {
			t.Fatal(err)
		}
		s, _, _ := strings.Cut(string(md), "## Time")
		return s
	}
	if ta, tb := table(a), table(b); ta != tb || strings.Contains(tb, "Incomplete") {
		t.Errorf("results.md differs:\n%s\n---\n%s", ta, tb)
	}
	cells, _ := filepath.Glob(filepath.Join(a, "cells", "*", "*", "*", "done.json"))
	if len(cells) != 4 {
		t.Fatalf("%d cells in %s", len(cells), a)
	}
	distinct := map[float64]bool{}
	for _, f := range cells {
		rel, _ := filepath.Rel(a, f)
		var ra, rb struct{ Scores metrics.Scores }
		readJSONFile(t, f, &ra)
		readJSONFile(t, filepath.Join(b, rel), &rb)
		if !reflect.DeepEqual(ra.Scores, rb.Scores) {
			t.Errorf("%s: scores %+v locally, %+v through Slurm", rel, ra.Scores, rb.Scores)
		}
		distinct[ra.Scores.MIoU] = true
	}
	if len(distinct) < 3 {
		t.Errorf("the cells' mIoUs are nearly all equal (%v): the comparison would not tell runs apart", distinct)
	}
}
