package main

import (
	"github.com/alecthomas/kong"

	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/pretext"
)

// TrainPretextCmd is `ssl4dp train pretext`: self-supervised pre-training with one of the
// methods of train/pretext; the flags and their defaults are pretext.Flags.
type TrainPretextCmd struct {
	pretext.Flags
}

// Run pre-trains until done, interrupted (exit 130 after a checkpoint) or broken.
func (c *TrainPretextCmd) Run(_ *Globals, kctx *kong.Context) error {
	ctx, stop := trainContext()
	defer stop()
	return c.Flags.Run(ctx, stderr, train.GivenFlags(kctx))
}
