package main

import (
	"github.com/alecthomas/kong"

	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/classify"
)

// TrainClassifyCmd is `ssl4dp train classify`: supervised pre-training on image labels;
// the flags and their defaults are classify.Flags.
type TrainClassifyCmd struct {
	classify.Flags
}

// Run trains until done, interrupted (exit 130 after a checkpoint) or broken.
func (c *TrainClassifyCmd) Run(_ *Globals, kctx *kong.Context) error {
	ctx, stop := trainContext()
	defer stop()
	return c.Flags.Run(ctx, stderr, train.GivenFlags(kctx))
}
