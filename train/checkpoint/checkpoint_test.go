package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSaveLoadPrune(t *testing.T) {
	run := t.TempDir()
	if _, _, err := Latest(run); !errors.Is(err, ErrNone) {
		t.Fatalf("empty run: %v", err)
	}
	for step := 100; step <= 400; step += 100 {
		if _, err := Save(run, step, map[string][]byte{"model.onnx": {byte(step / 100)}, "state.json": []byte("{}")}, 2); err != nil {
			t.Fatal(err)
		}
	}
	files, step, err := Load(run, "model.onnx", "state.json")
	if err != nil || step != 400 || files["model.onnx"][0] != 4 {
		t.Fatalf("Load = %v, %d, %v", files, step, err)
	}
	ents, _ := os.ReadDir(filepath.Join(run, "checkpoints"))
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	want := []string{"latest", "step-00000300", "step-00000400"}
	if len(names) != len(want) {
		t.Fatalf("kept %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("kept %v, want %v", names, want)
		}
	}
}

// A save killed half-way leaves a partial folder; latest still names the old checkpoint and
// the next save cleans up.
func TestKilledSaveLeavesPreviousCheckpoint(t *testing.T) {
	run := t.TempDir()
	if _, err := Save(run, 10, map[string][]byte{"model.onnx": []byte("good")}, 3); err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(run, "checkpoints", "step-00000020.partial")
	os.MkdirAll(partial, 0o755)
	os.WriteFile(filepath.Join(partial, "model.onnx"), []byte("ha"), 0o644)
	files, step, err := Load(run, "model.onnx")
	if err != nil || step != 10 || string(files["model.onnx"]) != "good" {
		t.Fatalf("after a killed save: %v %d %v", files, step, err)
	}
	if _, err := Save(run, 20, map[string][]byte{"model.onnx": []byte("new")}, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Fatal("partial folder not cleaned up")
	}
}

// A failing save (here: an unwritable checkpoints folder stands in for a full disk) returns
// an error and keeps the previous checkpoint usable.
func TestFailedSaveKeepsPrevious(t *testing.T) {
	if os.Getuid() == 0 {
		// Root ignores permissions; use a bad file name to force the failure path instead.
		run := t.TempDir()
		Save(run, 1, map[string][]byte{"model.onnx": []byte("good")}, 2)
		if _, err := Save(run, 2, map[string][]byte{"a/b": []byte("x")}, 2); err == nil {
			t.Fatal("want an error")
		}
		files, step, err := Load(run, "model.onnx")
		if err != nil || step != 1 || string(files["model.onnx"]) != "good" {
			t.Fatalf("previous checkpoint lost: %v %d %v", files, step, err)
		}
		return
	}
	run := t.TempDir()
	Save(run, 1, map[string][]byte{"model.onnx": []byte("good")}, 2)
	os.Chmod(filepath.Join(run, "checkpoints"), 0o555)
	defer os.Chmod(filepath.Join(run, "checkpoints"), 0o755)
	if _, err := Save(run, 2, map[string][]byte{"model.onnx": []byte("x")}, 2); err == nil {
		t.Fatal("want an error")
	}
	if _, step, err := Load(run, "model.onnx"); err != nil || step != 1 {
		t.Fatalf("previous checkpoint lost: %d %v", step, err)
	}
}

func TestResaveSameStep(t *testing.T) {
	run := t.TempDir()
	Save(run, 5, map[string][]byte{"m": []byte("a")}, 2)
	if _, err := Save(run, 5, map[string][]byte{"m": []byte("b")}, 2); err != nil {
		t.Fatal(err)
	}
	files, _, err := Load(run, "m")
	if err != nil || string(files["m"]) != "b" {
		t.Fatalf("%v %v", files, err)
	}
}
