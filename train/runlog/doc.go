// Package runlog keeps a training run's record: metrics as JSON lines (metrics.jsonl in the
// run folder) and a progress display for the person watching.
//
//	log, err := runlog.Open(filepath.Join(runDir, runlog.FileName)) // creates or appends
//	progress := runlog.NewProgress(os.Stderr, totalSteps)
//	for step := start; step < totalSteps; step++ {
//		…
//		log.Train(runlog.TrainRecord{Step: step, Loss: loss, LR: lr, ImagesPerSec: ips, TimeS: t})
//		progress.Update(step, loss, lr, batch)
//	}
//	progress.Finish()
//
// # metrics.jsonl
//
// One JSON object per line, each with "kind": "train" records (step, epoch, loss and its
// parts, lr, images/s, time) and "val" records (step, epoch, the validation scores of
// evaluate/metrics, time). Every record is written with a single write to a file opened for
// appending, so a killed process loses at most the record it was writing; values JSON cannot
// hold (NaN, ±Inf) are written as null and read back as NaN.
//
// Read tolerates what an interrupted run leaves: a torn last line is dropped, and when a
// resumed run logs a step again (it restarted from an earlier checkpoint), the records from
// that step on are replaced by the new ones. Open also drops a torn last line before
// appending, so the next record starts on a line of its own.
//
// # Progress
//
// On a terminal, Progress redraws one line (step/total, bar, smoothed loss, LR, images/s,
// ETA); otherwise it prints a plain line every Every steps or Interval, whichever comes first,
// so logs of batch jobs stay readable. The writer and the clock are fields, so tests
// drive it deterministically.
package runlog
