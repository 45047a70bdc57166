package runlog

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
)

// FileName is the metrics file's name inside a run folder.
const FileName = "metrics.jsonl"

// TrainRecord is one training step's numbers.
type TrainRecord struct {
	Step         int                // 0-based index of the update
	Epoch        float64            // passes over the training set so far (fractional)
	Loss         float64            // total loss of the step
	Losses       map[string]float64 // parts of the loss, if it has several (e.g. "ce", "aux")
	Monitors     map[string]float64 // the task's health numbers (Monitor), e.g. "top1", "rot", "std"
	LR           float64            // the schedule's learning rate for this step (head's LR)
	ImagesPerSec float64            // training throughput
	TimeS        float64            // seconds of training so far (a resumed run continues its clock)
}

// ValRecord is one validation pass.
type ValRecord struct {
	Step   int
	Epoch  float64
	Scores metrics.Scores
	TimeS  float64
}

// Record kinds on the wire.
const (
	kindTrain = "train"
	kindVal   = "val"
)

// jfloat is a float64 that JSON can always hold: non-finite values travel as null, and null
// reads back as NaN.
type jfloat float64

func (f jfloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

func (f *jfloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jfloat(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = jfloat(v)
	return nil
}

// wireTrain and wireVal are the records as JSON lines; field order is the line's order.
type wireTrain struct {
	Kind         string            `json:"kind"`
	Step         int               `json:"step"`
	Epoch        jfloat            `json:"epoch"`
	Loss         jfloat            `json:"loss"`
	Losses       map[string]jfloat `json:"losses,omitempty"`
	Monitors     map[string]jfloat `json:"monitors,omitempty"`
	LR           jfloat            `json:"lr"`
	ImagesPerSec jfloat            `json:"images_per_sec"`
	TimeS        jfloat            `json:"time_s"`
}

type wireVal struct {
	Kind   string         `json:"kind"`
	Step   int            `json:"step"`
	Epoch  jfloat         `json:"epoch"`
	Scores metrics.Scores `json:"scores"`
	TimeS  jfloat         `json:"time_s"`
}

func (r TrainRecord) wire() wireTrain {
	w := wireTrain{Kind: kindTrain, Step: r.Step, Epoch: jfloat(r.Epoch), Loss: jfloat(r.Loss), LR: jfloat(r.LR),
		ImagesPerSec: jfloat(r.ImagesPerSec), TimeS: jfloat(r.TimeS)}
	w.Losses, w.Monitors = toWire(r.Losses), toWire(r.Monitors)
	return w
}

func (w wireTrain) record() TrainRecord {
	r := TrainRecord{Step: w.Step, Epoch: float64(w.Epoch), Loss: float64(w.Loss), LR: float64(w.LR),
		ImagesPerSec: float64(w.ImagesPerSec), TimeS: float64(w.TimeS)}
	r.Losses, r.Monitors = fromWire(w.Losses), fromWire(w.Monitors)
	return r
}

func toWire(m map[string]float64) map[string]jfloat {
	if len(m) == 0 {
		return nil
	}
	w := make(map[string]jfloat, len(m))
	for k, v := range m {
		w[k] = jfloat(v)
	}
	return w
}

func fromWire(w map[string]jfloat) map[string]float64 {
	if len(w) == 0 {
		return nil
	}
	m := make(map[string]float64, len(w))
	for k, v := range w {
		m[k] = float64(v)
	}
	return m
}

// encodeLine renders a record as one JSON line with its newline.
func encodeLine(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("runlog: encoding a record: %w", err)
	}
	return append(b, '\n'), nil
}

// Monitor is one of a task's health numbers for a step (a pretext method's top-1 accuracy of
// the positive, rotation accuracy, or the std of its normalised outputs): metrics.jsonl keeps
// Name → Value per step; Chance and Ref are what it is read against.
type Monitor struct {
	Name    string
	Value   float64
	Chance  float64 // the value of a network that has learnt nothing (0: not meaningful)
	Ref     float64 // a reference value shown beside it (0: none), e.g. 1/√d for std
	RefName string  // what Ref is, e.g. "1/√d"
	Line    bool    // shown on the progress line
}
