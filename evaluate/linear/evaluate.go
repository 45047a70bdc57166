package linear

import (
	"context"

	"github.com/ssl4dp/ssl4dp/evaluate/features"
	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
)

// Options describe one linear-probe evaluation: the encoder and data (Features; its Split is
// ignored), the two splits, and the training.
type Options struct {
	Features   features.Options
	TrainSplit string // default "train"
	ValSplit   string // default "val"
	TrainOptions
}

// Result is what Evaluate measured.
type Result struct {
	Scores      metrics.Scores
	Confusion   *metrics.Confusion
	Classes     []string
	Channels    int
	TrainImages int
	ValImages   int
	TrainLoss   float64 // mean cross-entropy over the last epoch
	Steps       int
	Cached      [2]bool // train and val features came from the cache
}

// Evaluate extracts (or reads from the cache) the encoder's features on both splits, trains
// the probe on the train split and scores it on the val split.
func Evaluate(ctx context.Context, o Options) (*Result, error) {
	train, val, err := features.Splits(o.Features, o.TrainSplit, o.ValSplit)
	if err != nil {
		return nil, err
	}
	p, err := Fit(ctx, train, o.TrainOptions)
	if err != nil {
		return nil, err
	}
	conf, err := p.Score(val)
	if err != nil {
		return nil, err
	}
	return &Result{Scores: conf.Scores(), Confusion: conf, Classes: val.Classes, Channels: train.C,
		TrainImages: len(train.Images), ValImages: len(val.Images), TrainLoss: p.Loss, Steps: p.Steps,
		Cached: [2]bool{train.Cached, val.Cached}}, nil
}
