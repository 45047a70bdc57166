package metrics_test

import (
	"fmt"

	"github.com/ssl4dp/ssl4dp/evaluate/metrics"
)

func Example() {
	// Two classes, a 2×2 image: logits [K=2, H=2, W=2] and its label (255: ignore).
	logits := []float32{
		2, 0, 0, 1, // background
		1, 3, 2, 0, // object
	}
	label := []uint8{0, 1, 0, 255}
	pred, err := metrics.ArgmaxLogits(logits, 2, 2, 2)
	if err != nil {
		panic(err)
	}
	c, err := metrics.NewConfusion(2)
	if err != nil {
		panic(err)
	}
	if err := metrics.Add(c, pred, label); err != nil {
		panic(err)
	}
	fmt.Println(pred)
	fmt.Print(c.Scores().Table([]string{"background", "object"}))
	// Output:
	// [0 1 1 0]
	// class           IoU      Acc
	// background    50.00    50.00
	// object        50.00   100.00
	// mIoU 50.00  mAcc 75.00  aAcc 66.67  (3 pixels)
}
