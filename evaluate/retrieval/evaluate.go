package retrieval

import (
	"context"
	"fmt"

	"github.com/ssl4dp/ssl4dp/evaluate"
	"github.com/ssl4dp/ssl4dp/evaluate/features"
	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
)

// Options describe one retrieval evaluation: the encoder and data (Features; its Split is
// ignored), the two splits, and the search. Zero values take the published defaults.
type Options struct {
	Features    features.Options
	TrainSplit  string  // the memory bank's split (default "train")
	ValSplit    string  // the queries' split (default "val")
	K           int     // neighbours per query (DefaultK)
	Temperature float64 // softmax temperature over the neighbours' similarities (DefaultTemperature)
	BankSize    int     // most patches in the bank (DefaultBankSize; < 0: all)
	Seed        uint64  // draws the bank's patches when it is smaller than the train split
}

// Result is what Evaluate measured.
type Result struct {
	Scores      metrics.Scores
	Confusion   *metrics.Confusion
	Classes     []string
	Channels    int
	BankPatches int
	TrainImages int
	ValImages   int
	K           int
	Temperature float64
	Cached      [2]bool // train and val features came from the cache
}

func (o Options) withDefaults() Options {
	if o.K == 0 {
		o.K = DefaultK
	}
	if o.Temperature == 0 {
		o.Temperature = DefaultTemperature
	}
	if o.BankSize == 0 {
		o.BankSize = DefaultBankSize
	}
	return o
}

// Evaluate extracts (or reads from the cache) the features of both splits, builds the bank
// from the train split and scores the val split by retrieval.
func Evaluate(ctx context.Context, o Options) (*Result, error) {
	o = o.withDefaults()
	if o.K < 1 || !(o.Temperature > 0) {
		return nil, &usageError{fmt.Sprintf("k %d, temperature %v: want k ≥ 1 and temperature > 0", o.K, o.Temperature)}
	}
	train, val, err := features.Splits(o.Features, o.TrainSplit, o.ValSplit)
	if err != nil {
		return nil, err
	}
	bank, err := NewBank(train, o.BankSize, o.Seed)
	if err != nil {
		return nil, err
	}
	conf, err := Score(ctx, bank, val, o.K, o.Temperature)
	if err != nil {
		return nil, err
	}
	return &Result{Scores: conf.Scores(), Confusion: conf, Classes: val.Classes, Channels: train.C,
		BankPatches: bank.Len(), TrainImages: len(train.Images), ValImages: len(val.Images),
		K: o.K, Temperature: o.Temperature, Cached: [2]bool{train.Cached, val.Cached}}, nil
}

// Score predicts every val image by retrieval from bank and counts the confusion matrix. The
// queries of all images are searched together, so the pieces spread over every CPU even
// when one image has few patches.
func Score(ctx context.Context, bank *Bank, val *features.Set, k int, temperature float64) (*metrics.Confusion, error) {
	if val.C != bank.C || len(val.Classes) != bank.K {
		return nil, errorf("%s has %d channels and %d classes; the bank %d and %d", val.Data, val.C, len(val.Classes), bank.C, bank.K)
	}
	conf, err := metrics.NewConfusion(bank.K)
	if err != nil {
		return nil, errorf("%w", err)
	}
	var q []float32
	for i := range val.Images {
		rows, err := queries(bank, &val.Images[i])
		if err != nil {
			return nil, err
		}
		q = append(q, rows...)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dist := bank.Predict(q, k, temperature)
	off := 0
	for i := range val.Images {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		im := &val.Images[i]
		hw := im.H * im.W
		pred, err := classMap(bank, im, dist[off*bank.K:(off+hw)*bank.K])
		if err != nil {
			return nil, err
		}
		off += hw
		if err := metrics.Add(conf, pred, im.Mask.Pix); err != nil {
			return nil, errorf("image %s: %w", im.ID, err)
		}
	}
	return conf, nil
}

// PredictImage returns one image's class map at its mask's size.
func PredictImage(bank *Bank, im *features.Image, k int, temperature float64) ([]int32, error) {
	q, err := queries(bank, im)
	if err != nil {
		return nil, err
	}
	return classMap(bank, im, bank.Predict(q, k, temperature))
}

// queries returns an image's patches as normalised rows [h·w, C].
func queries(bank *Bank, im *features.Image) ([]float32, error) {
	hw := im.H * im.W
	if len(im.Feat) != bank.C*hw {
		return nil, errorf("image %s has %d feature values, want %d channels × %d×%d", im.ID, len(im.Feat), bank.C, im.H, im.W)
	}
	q := make([]float32, hw*bank.C)
	for p := range hw {
		row := q[p*bank.C : (p+1)*bank.C]
		for ch := range bank.C {
			row[ch] = im.Feat[ch*hw+p]
		}
		normalise(row)
	}
	return q, nil
}

// classMap turns an image's patch distributions [h·w, K] into its class map at the mask's
// size: planes [K,h,w], bilinear upsampling, argmax.
func classMap(bank *Bank, im *features.Image, dist []float32) ([]int32, error) {
	hw := im.H * im.W
	planes := make([]float32, bank.K*hw)
	for p := range hw {
		for l := range bank.K {
			planes[l*hw+p] = dist[p*bank.K+l]
		}
	}
	up := evaluate.ResizeBilinear(planes, bank.K, im.H, im.W, im.Mask.H, im.Mask.W)
	return metrics.ArgmaxLogits(up, bank.K, im.Mask.H, im.Mask.W)
}
