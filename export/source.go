package export

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ssl4dp/ssl4dp/export/modelinfo"
	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
	"github.com/ssl4dp/ssl4dp/train/checkpoint"
)

// The files of a run folder that export reads (train writes them).
const (
	ModelFile = "model.onnx" // the trained network, at the top of a run folder and in each checkpoint
	RunFile   = "run.json"   // what the run was: method, data, classes, normalisation, steps
)

// RunInfo is the part of a run folder's run.json (train.RunInfo, written by the training
// engine) that export copies into the model's metadata. Unknown fields are ignored, missing
// ones stay zero.
type RunInfo struct {
	Method  string             `json:"method"`
	Data    string             `json:"data"`
	Classes []string           `json:"classes"` // class names by label
	Mean    []float64          `json:"mean"`    // input normalisation on 0–255 RGB
	Std     []float64          `json:"std"`
	Steps   int                `json:"steps"`  // updates done
	Epochs  float64            `json:"epochs"` // passes over the training split
	Seed    uint64             `json:"seed"`
	Metrics map[string]float64 `json:"final_metrics"` // the last validation
	Task    struct {
		Crop    int `json:"crop"`     // segmentation: training crop side
		ValSize int `json:"val_size"` // segmentation: validation image side (0: whole images)
	} `json:"task"`
}

// Source is a trained model and, when it lives in a run folder, what the run recorded.
type Source struct {
	Path   string // the model file read
	RunDir string // the run folder, "" for a model outside one
	Step   int    // the checkpoint's step, or -1 for a run's final model or a plain file
	Model  *pb.ModelProto
	Run    *RunInfo // nil without a run.json
}

// Open reads what --from names:
//
//	RUN_DIR                      RUN_DIR/model.onnx, or the latest checkpoint's when the run
//	                             has not finished
//	RUN_DIR/checkpoints/step-N   that checkpoint's model.onnx
//	FILE.onnx                    the file; a run.json beside it (or two folders up, for a
//	                             checkpoint's model.onnx) is read too
func Open(from string) (*Source, error) {
	st, err := os.Stat(from)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &onnx.FormatError{File: from, Msg: "no such file or folder (want a run folder, a checkpoint folder or an .onnx file)"}
		}
		return nil, fmt.Errorf("export: %w", err)
	}
	s := &Source{Step: -1}
	if st.IsDir() {
		if err := s.resolveDir(from); err != nil {
			return nil, err
		}
	} else {
		s.Path = from
		s.RunDir, s.Step = runDirOf(from)
	}
	if s.Model, err = onnx.ReadFile(s.Path); err != nil {
		return nil, err
	}
	if s.RunDir != "" {
		if s.Run, err = readRunInfo(filepath.Join(s.RunDir, RunFile)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// resolveDir picks the model of a run folder or a checkpoint folder.
func (s *Source) resolveDir(dir string) error {
	if isFile(filepath.Join(dir, ModelFile)) {
		s.Path = filepath.Join(dir, ModelFile)
		s.RunDir, s.Step = runDirOf(s.Path)
		return nil
	}
	ck, step, err := checkpoint.Latest(dir)
	switch {
	case errors.Is(err, checkpoint.ErrNone):
		return &onnx.FormatError{File: dir, Msg: fmt.Sprintf("neither %s nor a checkpoint in it (want a run folder written by `ssl4dp train`, a checkpoint folder, or an .onnx file)", ModelFile)}
	case err != nil:
		return fmt.Errorf("export: %w", err)
	}
	s.Path, s.RunDir, s.Step = filepath.Join(ck, ModelFile), dir, step
	if !isFile(s.Path) {
		return &onnx.FormatError{File: ck, Msg: "the latest checkpoint has no " + ModelFile}
	}
	return nil
}

// runDirOf finds the run folder of a model file: its own folder when run.json is there, or
// RUN for RUN/checkpoints/step-N/model.onnx (whose step it also returns).
func runDirOf(model string) (string, int) {
	dir := filepath.Dir(model)
	if isFile(filepath.Join(dir, RunFile)) {
		return dir, -1
	}
	base, parent := filepath.Base(dir), filepath.Dir(dir)
	var step int
	if filepath.Base(parent) == "checkpoints" && strings.HasPrefix(base, "step-") {
		if _, err := fmt.Sscanf(base, "step-%d", &step); err == nil {
			return filepath.Dir(parent), step
		}
	}
	return "", -1
}

// readRunInfo reads run.json; a run folder without one gives nil.
func readRunInfo(path string) (*RunInfo, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	var r RunInfo
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, &onnx.FormatError{File: path, Msg: fmt.Sprintf("not a run description: %v", err)}
	}
	for _, v := range [][]float64{r.Mean, r.Std} {
		if len(v) != 0 && len(v) != 3 {
			return nil, &onnx.FormatError{File: path, Msg: fmt.Sprintf("mean and std need 3 values (R, G, B), got %v and %v", r.Mean, r.Std)}
		}
	}
	return &r, nil
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// Info is what the export's metadata should say about s: what the model already carries,
// overridden by the run's run.json, with the checkpoint's step when s is a checkpoint.
func (s *Source) Info() (modelinfo.Info, error) {
	in, err := modelinfo.Read(s.Model)
	if err != nil {
		return modelinfo.Info{}, fmt.Errorf("export: %s: %w", s.Path, err)
	}
	in.Source = s.Path
	if s.RunDir != "" {
		in.Source = s.RunDir
		if s.Step >= 0 {
			in.Source = fmt.Sprintf("%s (checkpoint at step %d)", s.RunDir, s.Step)
		}
	}
	if r := s.Run; r != nil {
		if r.Method != "" {
			in.Method = r.Method
		}
		if r.Data != "" {
			in.Data = r.Data
		}
		if len(r.Classes) > 0 {
			in.Classes, in.NumClasses = r.Classes, len(r.Classes)
		}
		if len(r.Mean) == 3 && len(r.Std) == 3 {
			in.Mean, in.Std = r.Mean, r.Std
		}
		if r.Steps > 0 {
			in.Steps = r.Steps
		}
		if r.Epochs > 0 {
			in.Epochs = r.Epochs
		}
		if r.Seed != 0 {
			in.Seed = r.Seed
		}
		if len(r.Metrics) > 0 && s.Step < 0 {
			in.Metrics = r.Metrics // the final metrics describe the final model only
		}
	}
	if s.Step >= 0 {
		in.Steps, in.Epochs = s.Step, 0
	}
	return in, nil
}

// InputSize is the image side the run worked at — its validation size, else its training
// crop — or 0 when the run does not say (not a segmentation run, or no run.json).
func (s *Source) InputSize() int {
	if s.Run == nil {
		return 0
	}
	if s.Run.Task.ValSize > 0 {
		return s.Run.Task.ValSize
	}
	return s.Run.Task.Crop
}
