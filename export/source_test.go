package export

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/export/modelinfo"
	"github.com/ssl4dp/ssl4dp/onnx"
	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/checkpoint"
)

// runJSON is a run.json as the training engine writes it (train.RunInfo's field names).
const runJSON = `{
  "ssl4dp_version": "0.1.0-dev",
  "method": "seg",
  "data": "synthetic:classes=3,size=32",
  "dataset": "synthetic:classes=3,size=32,n=2048,val=256,seed=1,objects=4 (train)",
  "classes": ["background", "disc", "square"],
  "mean": [123.675, 116.28, 103.53],
  "std": [58.395, 57.12, 57.375],
  "steps": 300, "iters": 300, "batch": 4, "seed": 18446744073709551615, "epochs": 0.5859375,
  "final_metrics": {"miou": 0.4125, "pixel_acc": 0.8},
  "task": {"encoder": "resnet18", "crop": 48, "val_batch": 2}
}
`

// writeRun lays out a run folder: model.onnx, run.json and two checkpoints.
func writeRun(t *testing.T, final bool) string {
	t.Helper()
	dir := t.TempDir()
	b, err := onnx.Encode(trained(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []int{100, 200} {
		if _, err := checkpoint.Save(dir, step, map[string][]byte{ModelFile: b}, 2); err != nil {
			t.Fatal(err)
		}
	}
	if final {
		if err := os.WriteFile(filepath.Join(dir, ModelFile), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, RunFile), []byte(runJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOpenRunFolder(t *testing.T) {
	run := writeRun(t, true)
	unfinished := writeRun(t, false)
	ck := filepath.Join(run, "checkpoints", "step-00000100")
	for _, tc := range []struct {
		from, path, runDir string
		step               int
	}{
		{run, filepath.Join(run, ModelFile), run, -1},
		{filepath.Join(run, ModelFile), filepath.Join(run, ModelFile), run, -1},
		{unfinished, filepath.Join(unfinished, "checkpoints", "step-00000200", ModelFile), unfinished, 200},
		{ck, filepath.Join(ck, ModelFile), run, 100},
		{filepath.Join(ck, ModelFile), filepath.Join(ck, ModelFile), run, 100},
	} {
		s, err := Open(tc.from)
		if err != nil {
			t.Errorf("%s: %v", tc.from, err)
			continue
		}
		if s.Path != tc.path || s.RunDir != tc.runDir || s.Step != tc.step || s.Run == nil || s.Model == nil {
			t.Errorf("%s: path %s run %s step %d (run info %v); want %s %s %d", tc.from, s.Path, s.RunDir, s.Step, s.Run != nil, tc.path, tc.runDir, tc.step)
		}
	}
}

func TestSourceInfo(t *testing.T) {
	run := writeRun(t, true)
	s, err := Open(run)
	if err != nil {
		t.Fatal(err)
	}
	in, err := s.Info()
	if err != nil {
		t.Fatal(err)
	}
	if in.Method != "seg" || in.Steps != 300 || in.Epochs != 0.5859375 || in.Data != "synthetic:classes=3,size=32" ||
		!slices.Equal(in.Classes, []string{"background", "disc", "square"}) || in.NumClasses != 3 ||
		in.Mean[2] != 103.53 || in.Std[0] != 58.395 || in.Metrics["miou"] != 0.4125 || in.Source != run || in.Seed != 18446744073709551615 {
		t.Errorf("info %+v", in)
	}
	if s.InputSize() != 48 {
		t.Errorf("input size %d, want the crop 48", s.InputSize())
	}
	ck, err := Open(filepath.Join(run, "checkpoints", "step-00000100"))
	if err != nil {
		t.Fatal(err)
	}
	in, _ = ck.Info()
	if in.Steps != 100 || in.Epochs != 0 || in.Metrics != nil || !strings.Contains(in.Source, "checkpoint at step 100") {
		t.Errorf("checkpoint info %+v: want step 100, no epochs or final metrics", in)
	}
}

// Export writes the run's description into metadata_props, and modelinfo reads it back.
func TestExportMetadata(t *testing.T) {
	initORT(t)
	s, err := Open(writeRun(t, true))
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info()
	if err != nil {
		t.Fatal(err)
	}
	r := mustExport(t, s.Model, Options{Info: info, Argmax: true})
	got, err := modelinfo.Read(r.Model)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != onnx.Version || got.Output != "seg" || !got.Argmax || got.NumClasses != 3 || got.Method != "seg" ||
		got.Steps != 300 || len(got.Classes) != 3 || got.Mean[0] != 123.675 || got.Std[2] != 57.375 || got.Source != s.RunDir ||
		got.Metrics["miou"] != 0.4125 || got.Data != info.Data {
		t.Errorf("metadata read back: %+v", got)
	}
	if _, ok := onnx.Metadata(r.Model, "ssl4dp.graphs.spec"); !ok {
		t.Error("the source's graphs spec was not kept")
	}

	enc := mustExport(t, s.Model, Options{Info: info, What: Encoder})
	got, _ = modelinfo.Read(enc.Model)
	if got.Output != "encoder" || got.NumClasses != 0 || got.Classes != nil || got.Method != "seg" {
		t.Errorf("encoder metadata %+v", got)
	}

	info.Classes = append(info.Classes, "extra")
	if _, err := Export(s.Model, Options{Info: info, H: 32, W: 32}); err == nil || !strings.Contains(err.Error(), "names 4 classes") {
		t.Errorf("4 class names for 3 logits: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o755)
	corrupt := filepath.Join(dir, "corrupt.onnx")
	os.WriteFile(corrupt, []byte("not a model"), 0o644)
	badRun := writeRun(t, true)
	os.WriteFile(filepath.Join(badRun, RunFile), []byte(`{"mean": [1, 2]}`), 0o644)
	for _, tc := range []struct{ from, want string }{
		{filepath.Join(dir, "missing"), "no such file or folder"},
		{empty, "neither model.onnx nor a checkpoint"},
		{corrupt, "not an ONNX model"},
		{badRun, "mean and std need 3 values"},
	} {
		_, err := Open(tc.from)
		var fe *onnx.FormatError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a FormatError containing %q", tc.from, err, tc.want)
		}
	}
}

// Re-exporting an export keeps its description (through Source.Info) but not what no longer
// holds: an encoder taken from an --argmax export has no argmax and no classes.
func TestReexportDropsStaleMetadata(t *testing.T) {
	initORT(t)
	s, err := Open(writeRun(t, true))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info()
	first := mustExport(t, s.Model, Options{Info: info, Argmax: true, Dynamic: true})
	path := filepath.Join(t.TempDir(), "first.onnx")
	if err := onnx.WriteFile(path, first.Model); err != nil {
		t.Fatal(err)
	}
	again, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	info, err = again.Info()
	if err != nil {
		t.Fatal(err)
	}
	second := mustExport(t, again.Model, Options{Info: info, What: Encoder})
	got, _ := modelinfo.Read(second.Model)
	if got.Argmax || got.NumClasses != 0 || got.Classes != nil || got.Method != "seg" || got.Steps != 300 || got.Source != path {
		t.Errorf("re-exported metadata %+v", got)
	}
}

// export reads the run.json the training engine writes (train.RunInfo), field for field.
func TestRunInfoMatchesEngine(t *testing.T) {
	ri := train.RunInfo{Method: "plmoco", Data: "synthetic", Classes: []string{"a", "b"}, Mean: [3]float32{1, 2, 3}, Std: [3]float32{4, 5, 6},
		Steps: 7, Iters: 9, Seed: 11, Epochs: 0.5, Metrics: map[string]float64{train.KeyMIoU: 0.25}}
	ri.Task = map[string]int{"crop": 33, "val_size": 21} // what the seg task records
	b, err := json.Marshal(ri)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), RunFile)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readRunInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Method != "plmoco" || got.Data != "synthetic" || !slices.Equal(got.Classes, ri.Classes) || !slices.Equal(got.Mean, []float64{1, 2, 3}) ||
		!slices.Equal(got.Std, []float64{4, 5, 6}) || got.Steps != 7 || got.Seed != 11 || got.Epochs != 0.5 || got.Metrics[train.KeyMIoU] != 0.25 ||
		got.Task.Crop != 33 || got.Task.ValSize != 21 {
		t.Errorf("read %+v from %s", got, b)
	}
}
