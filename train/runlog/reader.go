package runlog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Log is what a metrics.jsonl holds, in step order, with resumed runs' repeats resolved.
type Log struct {
	Train []TrainRecord
	Val   []ValRecord
	// Torn reports that the last line was incomplete (the run was killed while writing it)
	// and was dropped.
	Torn bool
}

// FormatError is a metrics file line that is not a record. The CLI exits with 2 for it.
type FormatError struct {
	Path string
	Line int
	Err  error
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("runlog: %s line %d: %v", e.Path, e.Line, e.Err)
}

func (e *FormatError) Unwrap() error { return e.Err }

// ExitCode makes the CLI exit with 2 (bad input).
func (e *FormatError) ExitCode() int { return 2 }

// ReadFile reads a metrics file, or the metrics.jsonl inside a run folder.
func ReadFile(path string) (*Log, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = filepath.Join(path, FileName)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("runlog: %w", err)
	}
	defer f.Close()
	return Read(f, path)
}

// Read parses metrics lines from r; name is used in error messages. Blank lines and records
// of kinds this version does not know are skipped.
func Read(r io.Reader, name string) (*Log, error) {
	lg := &Log{}
	br := bufio.NewReader(r)
	for line := 1; ; line++ {
		text, err := br.ReadBytes('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("runlog: %s: %w", name, err)
		}
		last := errors.Is(err, io.EOF)
		if perr := lg.parse(bytes.TrimSpace(text)); perr != nil {
			if last {
				lg.Torn = true // a torn final line: the run died while writing it
				return lg, nil
			}
			return nil, &FormatError{Path: name, Line: line, Err: perr}
		}
		if last {
			return lg, nil
		}
	}
}

func (lg *Log) parse(text []byte) error {
	if len(text) == 0 {
		return nil
	}
	var head struct {
		Kind string `json:"kind"`
		Step *int   `json:"step"`
	}
	if err := json.Unmarshal(text, &head); err != nil {
		return err
	}
	switch head.Kind {
	case kindTrain, kindVal:
	default:
		return nil // a newer ssl4dp's record kind
	}
	if head.Step == nil {
		return fmt.Errorf("%s record without a step", head.Kind)
	}
	lg.cutFrom(*head.Step, head.Kind)
	if head.Kind == kindTrain {
		var w wireTrain
		if err := json.Unmarshal(text, &w); err != nil {
			return err
		}
		lg.Train = append(lg.Train, w.record())
		return nil
	}
	var w wireVal
	if err := json.Unmarshal(text, &w); err != nil {
		return err
	}
	lg.Val = append(lg.Val, ValRecord{Step: w.Step, Epoch: float64(w.Epoch), Scores: w.Scores, TimeS: float64(w.TimeS)})
	return nil
}

// cutFrom handles a resumed run: a record whose step is not after the last one of its kind
// means the run restarted from an earlier checkpoint, so everything logged from that step on
// (train and val alike) belongs to the abandoned attempt and is dropped.
func (lg *Log) cutFrom(step int, kind string) {
	last := -1
	if kind == kindTrain && len(lg.Train) > 0 {
		last = lg.Train[len(lg.Train)-1].Step
	}
	if kind == kindVal && len(lg.Val) > 0 {
		last = lg.Val[len(lg.Val)-1].Step
	}
	if step > last {
		return
	}
	t := 0
	for t < len(lg.Train) && lg.Train[t].Step < step {
		t++
	}
	lg.Train = lg.Train[:t]
	v := 0
	for v < len(lg.Val) && lg.Val[v].Step < step {
		v++
	}
	lg.Val = lg.Val[:v]
}
