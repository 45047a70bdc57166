package runlog

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
)

func writeRecords(t *testing.T, path string, steps ...int) {
	t.Helper()
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range steps {
		if err := w.Train(TrainRecord{Step: s, Loss: float64(s), LR: 0.01}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func trainSteps(lg *Log) []int {
	var s []int
	for _, r := range lg.Train {
		s = append(s, r.Step)
	}
	return s
}

func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w, err := Open(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	tr := TrainRecord{Step: 7, Epoch: 0.25, Loss: math.NaN(), Losses: map[string]float64{"ce": 1.5, "aux": math.Inf(1)}, Monitors: map[string]float64{"top1": 0.25}, LR: 0.01, ImagesPerSec: 12.5, TimeS: 3.25}
	val := ValRecord{Step: 7, Epoch: 0.25, Scores: metrics.Scores{MIoU: 0.5, MeanAcc: 0.75, PixelAcc: 0.8, IoU: []float64{0.5, math.NaN()}, Acc: []float64{0.75, math.NaN()}, Pixels: 10}, TimeS: 4}
	if err := w.Train(tr); err != nil {
		t.Fatal(err)
	}
	if err := w.Val(val); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := w.Train(tr); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("write after Close: %v", err)
	}
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	wantLine := `{"kind":"train","step":7,"epoch":0.25,"loss":null,"losses":{"aux":null,"ce":1.5},"monitors":{"top1":0.25},"lr":0.01,"images_per_sec":12.5,"time_s":3.25}`
	if first := strings.SplitN(string(raw), "\n", 2)[0]; first != wantLine {
		t.Errorf("train line\n%s\nwant\n%s", first, wantLine)
	}
	lg, err := ReadFile(dir) // a run folder works as well as the file
	if err != nil {
		t.Fatal(err)
	}
	if len(lg.Train) != 1 || len(lg.Val) != 1 || lg.Torn {
		t.Fatalf("read %d train, %d val records, torn %v", len(lg.Train), len(lg.Val), lg.Torn)
	}
	g := lg.Train[0]
	if g.Step != 7 || g.Epoch != 0.25 || !math.IsNaN(g.Loss) || g.Losses["ce"] != 1.5 || !math.IsNaN(g.Losses["aux"]) || g.Monitors["top1"] != 0.25 || g.LR != 0.01 || g.ImagesPerSec != 12.5 || g.TimeS != 3.25 {
		t.Errorf("train record read back as %+v", g)
	}
	v := lg.Val[0]
	if v.Step != 7 || v.Scores.MIoU != 0.5 || v.Scores.Pixels != 10 || !math.IsNaN(v.Scores.IoU[1]) || v.TimeS != 4 {
		t.Errorf("val record read back as %+v", v)
	}
}

// A run killed mid-write leaves a torn last line: Read drops it, Open cuts it off before
// appending, and the file reads clean afterwards.
func TestTornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	writeRecords(t, path, 0, 1, 2)
	f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"kind":"train","step":3,"lo`)
	f.Close()

	lg, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(trainSteps(lg)) != "[0 1 2]" || !lg.Torn {
		t.Errorf("torn file read as steps %v, torn %v", trainSteps(lg), lg.Torn)
	}
	writeRecords(t, path, 3, 4)
	lg, err = ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(trainSteps(lg)) != "[0 1 2 3 4]" || lg.Torn {
		t.Errorf("after reopening: steps %v, torn %v", trainSteps(lg), lg.Torn)
	}

	// A file that is nothing but a torn line becomes empty.
	only := filepath.Join(t.TempDir(), FileName)
	os.WriteFile(only, []byte(`{"kind":"tr`), 0o644)
	writeRecords(t, only, 0)
	if lg, err := ReadFile(only); err != nil || fmt.Sprint(trainSteps(lg)) != "[0]" {
		t.Errorf("torn-only file: %v %v", trainSteps(lg), err)
	}
}

// A resumed run that restarted from the checkpoint at step 3 logs steps 3 and 4 again; its
// records replace the abandoned attempt's, including the validation at step 4.
func TestResumeReplacesRepeatedSteps(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	writeRecords(t, path, 0, 1, 2, 3, 4, 5)
	w, _ := Open(path)
	w.Val(ValRecord{Step: 4, Scores: metrics.Scores{MIoU: 0.1}})
	w.Train(TrainRecord{Step: 3, Loss: 30})
	w.Train(TrainRecord{Step: 4, Loss: 40})
	w.Val(ValRecord{Step: 4, Scores: metrics.Scores{MIoU: 0.2}})
	w.Close()
	lg, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(trainSteps(lg)) != "[0 1 2 3 4]" || lg.Train[3].Loss != 30 || lg.Train[4].Loss != 40 {
		t.Errorf("resumed log: steps %v, %+v", trainSteps(lg), lg.Train)
	}
	if len(lg.Val) != 1 || lg.Val[0].Scores.MIoU != 0.2 {
		t.Errorf("resumed log val records %+v", lg.Val)
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, FileName)
	os.WriteFile(path, []byte("{\"kind\":\"train\",\"step\":0}\nnot json\n{\"kind\":\"train\",\"step\":1}\n"), 0o644)
	_, err := ReadFile(path)
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Line != 2 || fe.ExitCode() != 2 || !strings.Contains(err.Error(), "metrics.jsonl line 2: invalid character") {
		t.Errorf("bad middle line: %v", err)
	}
	os.WriteFile(path, []byte("{\"kind\":\"train\"}\n{}\n"), 0o644)
	if _, err := ReadFile(path); err == nil || !strings.Contains(err.Error(), "line 1: train record without a step") {
		t.Errorf("record without step: %v", err)
	}
	// Blank lines and unknown kinds (a newer ssl4dp's) are skipped.
	os.WriteFile(path, []byte("\n{\"kind\":\"hparams\",\"lr\":1}\n{\"kind\":\"train\",\"step\":0}\n"), 0o644)
	if lg, err := ReadFile(path); err != nil || len(lg.Train) != 1 {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	empty := t.TempDir()
	if _, err := ReadFile(empty); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), FileName) {
		t.Errorf("run folder without metrics: %v", err)
	}
}

// The child half of TestKilledWriter: log records as fast as possible until killed.
func TestKilledWriterChild(t *testing.T) {
	path := os.Getenv("RUNLOG_KILL_CHILD")
	if path == "" {
		t.Skip("runs only as TestKilledWriter's child process")
	}
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for step := 0; ; step++ {
		w.Train(TrainRecord{Step: step, Loss: 1 / float64(step+1), Losses: map[string]float64{"ce": 1, "aux": 2}, LR: 0.01, TimeS: float64(step)})
	}
}

// SIGKILL a process in the middle of logging: every record it logged reads back, in order.
func TestKilledWriter(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterChild$")
	cmd.Env = append(os.Environ(), "RUNLOG_KILL_CHILD="+path)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if st, err := os.Stat(path); err == nil && st.Size() > 200_000 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("child wrote too little in 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill() // SIGKILL
	cmd.Wait()
	lg, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(lg.Train) < 1000 {
		t.Fatalf("only %d records read back", len(lg.Train))
	}
	for i, r := range lg.Train {
		if r.Step != i || r.Losses["aux"] != 2 {
			t.Fatalf("record %d is %+v", i, r)
		}
	}
	t.Logf("%d records survived SIGKILL (torn last line: %v)", len(lg.Train), lg.Torn)
}
