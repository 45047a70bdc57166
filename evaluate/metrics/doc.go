// Package metrics scores semantic segmentation: a confusion matrix accumulated over images,
// and from it mIoU, per-class IoU, pixel accuracy and mean class accuracy, as mmseg defines
// them. It depends on nothing but the standard library, so validation during training and
// `ssl4dp evaluate` (onnxruntime) report the same numbers from the same code.
//
//	c, err := metrics.NewConfusion(21) // label 255 is ignored
//	for each image {
//		pred, err := metrics.ArgmaxLogits(logits, 21, h, w) // logits already at label size
//		err = metrics.Add(c, pred, label)
//	}
//	s := c.Scores()
//	fmt.Println(s.Table(classNames))
//
// # Definitions (mmseg's mmseg/evaluation/metrics/iou_metric.py)
//
// With n[l][p] the number of pixels of label l predicted as p (ignored pixels left out):
//
//	intersect[c] = n[c][c]
//	union[c]     = Σ_p n[c][p] + Σ_l n[l][c] − n[c][c]
//	IoU[c]       = intersect[c] / union[c]      NaN when union[c] = 0
//	Acc[c]       = intersect[c] / Σ_p n[c][p]   NaN when class c has no labelled pixel
//	mIoU         = mean of the IoU[c] that are not NaN
//	mAcc         = mean of the Acc[c] that are not NaN
//	aAcc         = Σ intersect / Σ n            (pixel accuracy)
//
// So a class that appears neither in the labels nor in the predictions does not count in
// mIoU (its IoU is NaN, shown as "–"), while a class that is only predicted counts with IoU 0.
// Scores are fractions in [0, 1]; Table shows them ×100 as mmseg prints them.
//
// Errors start with "metrics:"; a label outside [0, K) that is not the ignore label is an
// error (a wrong class count or a broken label file), not something to skip silently.
package metrics
