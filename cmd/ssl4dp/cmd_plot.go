package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/ssl4dp/ssl4dp/train/plot"
	"github.com/ssl4dp/ssl4dp/train/runlog"
)

// PlotCmd draws a run's loss, learning-rate, monitor (a pretext method's accuracy at its task) and validation-mIoU curves to a PNG.
type PlotCmd struct {
	RunDir      string `arg:"" name:"RUN_DIR" help:"Run folder holding metrics.jsonl (or the metrics.jsonl file itself)."`
	Out         string `short:"o" name:"out" placeholder:"curves.png" help:"PNG to write (default: curves.png in the run folder)."`
	Width       int    `name:"width" default:"1000" help:"Image width in pixels."`
	PanelHeight int    `name:"panel-height" default:"300" help:"Height of each panel in pixels."`
}

// Run reads the metrics and writes the figure.
func (c *PlotCmd) Run(*Globals) error {
	lg, err := runlog.ReadFile(c.RunDir)
	if err != nil {
		return err
	}
	out := c.Out
	if out == "" {
		dir := c.RunDir
		if st, err := os.Stat(dir); err == nil && !st.IsDir() {
			dir = filepath.Dir(dir)
		}
		out = filepath.Join(dir, "curves.png")
	}
	title, _ := filepath.Abs(c.RunDir)
	if err := plot.SavePNG(out, lg, plot.Options{Title: filepath.Base(title), Width: c.Width, PanelHeight: c.PanelHeight}); err != nil {
		return err
	}
	note := ""
	if lg.Torn {
		note = " (the last line was incomplete and is left out)"
	}
	fmt.Fprintf(stdout, "wrote %s: %d training steps, %d validations%s\n", out, len(lg.Train), len(lg.Val), note)
	return nil
}
