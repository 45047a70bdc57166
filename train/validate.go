package train

import (
	"fmt"
	"math"
	"time"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// Keys of the validation scores in run.json's final_metrics (mmseg's names).
const (
	KeyMIoU     = "mIoU"
	KeyMeanAcc  = "mAcc"
	KeyPixelAcc = "aAcc"
)

// validate scores the task (if it is a Validator) at the current step and logs the result.
func (r *runner) validate() error {
	v, ok := r.task.(Validator)
	if !ok {
		return nil
	}
	if err := r.stepper.syncHost(); err != nil {
		return err
	}
	start := time.Now()
	var scores metrics.Scores
	var m map[string]float64
	var err error
	if sv, ok := r.task.(ScoreValidator); ok {
		if scores, err = sv.ValidateScores(); err == nil {
			m = map[string]float64{KeyMIoU: scores.MIoU, KeyMeanAcc: scores.MeanAcc, KeyPixelAcc: scores.PixelAcc}
		}
	} else if m, err = v.Validate(); err == nil {
		scores = scoresOf(m)
	}
	if err != nil {
		return fmt.Errorf("train: validation after step %d: %w", r.st.Step, err)
	}
	step := r.st.Step - 1 // the 0-based index of the last update, as in the train records
	if err := r.metrics.Val(runlog.ValRecord{Step: step, Epoch: r.epoch(), Scores: scores, TimeS: r.timeS()}); err != nil {
		return err
	}
	r.lastVal, r.lastValStep = m, r.st.Step
	msg := fmt.Sprintf("validation after step %d:", r.st.Step)
	for _, k := range []string{KeyMIoU, KeyMeanAcc, KeyPixelAcc} {
		if x, ok := m[k]; ok {
			msg += fmt.Sprintf(" %s %.2f%%", k, 100*x)
		}
	}
	r.progress.Print(fmt.Sprintf("%s (%.1fs)", msg, time.Since(start).Seconds()))
	return nil
}

// scoresOf carries a plain Validator's scores into the metrics record (per-class values are
// unknown).
func scoresOf(m map[string]float64) metrics.Scores {
	get := func(k string) float64 {
		if v, ok := m[k]; ok {
			return v
		}
		return math.NaN()
	}
	return metrics.Scores{MIoU: get(KeyMIoU), MeanAcc: get(KeyMeanAcc), PixelAcc: get(KeyPixelAcc)}
}
