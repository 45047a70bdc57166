package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/ssl4dp/ssl4dp/train"
	"github.com/ssl4dp/ssl4dp/train/seg"
)

// TrainCmd groups the training commands; add one by writing its struct with a
// Run(*Globals, *kong.Context) method and one line here.
type TrainCmd struct {
	Seg      TrainSegCmd      `cmd:"" help:"Fine-tune an encoder + segmentation head on a labelled dataset (mmseg's VOC recipe by default); validation mIoU, checkpoints, --resume."`
	Pretext  TrainPretextCmd  `cmd:"" help:"Pre-train an encoder without labels: moco, simclr, byol, simsiam, plr, edmoco, plmoco, pledmoco, cp2; writes encoder.onnx for train seg --init."`
	Classify TrainClassifyCmd `cmd:"" help:"Supervised pre-training: encoder + classifier on image labels (folder:DIR's sub-folders, or a labelled spec's dominant class); writes encoder.onnx for train seg --init."`
}

// TrainSegCmd is `ssl4dp train seg`.
type TrainSegCmd struct {
	seg.Flags
}

// Run trains until done, interrupted (exit 130 after a checkpoint) or broken.
func (c *TrainSegCmd) Run(_ *Globals, kctx *kong.Context) error {
	ctx, stop := trainContext()
	defer stop()
	return c.Flags.Run(ctx, stderr, train.GivenFlags(kctx))
}

// trainContext is cancelled by the first SIGINT or SIGTERM: the engine then finishes its
// step and saves a checkpoint. After that first signal the default handling is back, so a
// second Ctrl-C ends the process at once.
func trainContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case s := <-sig:
			signal.Stop(sig)
			fmt.Fprintf(stderr, "\nssl4dp: %v: stopping after this step and saving a checkpoint (interrupt again to quit at once)\n", s)
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, func() {
		signal.Stop(sig)
		cancel()
	}
}
