package metrics

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func confusion(t *testing.T, k int, pred []int32, label []uint8) *Confusion {
	t.Helper()
	c, err := NewConfusion(k)
	if err != nil {
		t.Fatal(err)
	}
	if err := Add(c, pred, label); err != nil {
		t.Fatal(err)
	}
	return c
}

const nan = -1.0 // marks an expected NaN in the tables below

func checkScores(t *testing.T, name string, s Scores, miou, macc, aacc float64, iou, acc []float64) {
	t.Helper()
	eq := func(got, want float64) bool {
		if want == nan {
			return math.IsNaN(got)
		}
		return math.Abs(got-want) < 1e-12
	}
	if !eq(s.MIoU, miou) || !eq(s.MeanAcc, macc) || !eq(s.PixelAcc, aacc) {
		t.Errorf("%s: mIoU %v mAcc %v aAcc %v, want %v %v %v", name, s.MIoU, s.MeanAcc, s.PixelAcc, miou, macc, aacc)
	}
	for i := range iou {
		if !eq(s.IoU[i], iou[i]) || !eq(s.Acc[i], acc[i]) {
			t.Errorf("%s: class %d IoU %v Acc %v, want %v %v", name, i, s.IoU[i], s.Acc[i], iou[i], acc[i])
		}
	}
}

// A 3×3 image with three classes and one ignored pixel, worked by hand:
//
//	label 0 0 0   pred 0 0 1      n[label][pred]   0  1  2    labelled  predicted  ∩  ∪
//	      1 1 1        1 1 2      0                2  1  0    3         3          2  4
//	      2 2 ·        2 0 1      1                0  2  1    3         3          2  4
//	                              2                1  0  1    2         2          1  3
//
// IoU = 2/4, 2/4, 1/3 → mIoU = 4/9; Acc = 2/3, 2/3, 1/2 → mAcc = 11/18; aAcc = 5/8.
// The ignored pixel (label 255, predicted 1) counts nowhere.
func TestThreeClassByHand(t *testing.T) {
	label := []uint8{0, 0, 0, 1, 1, 1, 2, 2, 255}
	pred := []int32{0, 0, 1, 1, 1, 2, 2, 0, 1}
	c := confusion(t, 3, pred, label)
	want := []int64{2, 1, 0, 0, 2, 1, 1, 0, 1}
	for i, n := range want {
		if c.Counts[i] != n {
			t.Fatalf("counts %v, want %v", c.Counts, want)
		}
	}
	if c.At(2, 0) != 1 || c.Pixels() != 8 {
		t.Errorf("At(2,0) = %d, Pixels = %d", c.At(2, 0), c.Pixels())
	}
	s := c.Scores()
	checkScores(t, "3-class", s, 4.0/9, 11.0/18, 5.0/8, []float64{0.5, 0.5, 1.0 / 3}, []float64{2.0 / 3, 2.0 / 3, 0.5})
	if s.Pixels != 8 {
		t.Errorf("pixels %d, want 8", s.Pixels)
	}
}

// K = 4; labels hold classes 0 and 1 only, predictions also say 2 once, nobody says 3.
// class 0: ∩1 ∪2 → IoU 1/2, Acc 1/2; class 1: ∩2 ∪2 → 1, 1;
// class 2: predicted only → IoU 0 (counts in mIoU), Acc NaN (not in mAcc);
// class 3: absent from both → IoU NaN and Acc NaN, left out of both means.
// mIoU = (1/2 + 1 + 0)/3 = 1/2; mAcc = (1/2 + 1)/2 = 3/4; aAcc = 3/4.
func TestAbsentClasses(t *testing.T) {
	s := confusion(t, 4, []int32{0, 2, 1, 1}, []uint8{0, 0, 1, 1}).Scores()
	checkScores(t, "absent", s, 0.5, 0.75, 0.75, []float64{0.5, 1, 0, nan}, []float64{0.5, 1, nan, nan})
}

func TestAllRightAllWrongAllIgnored(t *testing.T) {
	right := confusion(t, 3, []int32{0, 1, 2, 2}, []uint8{0, 1, 2, 2}).Scores()
	checkScores(t, "all right", right, 1, 1, 1, []float64{1, 1, 1}, []float64{1, 1, 1})
	wrong := confusion(t, 2, []int32{1, 0, 1, 0}, []uint8{0, 1, 0, 1}).Scores()
	checkScores(t, "all wrong", wrong, 0, 0, 0, []float64{0, 0}, []float64{0, 0})
	ignored := confusion(t, 2, []int32{1, 0}, []uint8{255, 255}).Scores()
	checkScores(t, "all ignored", ignored, nan, nan, nan, []float64{nan, nan}, []float64{nan, nan})
	if ignored.Pixels != 0 {
		t.Errorf("ignored pixels counted: %d", ignored.Pixels)
	}
}

// Counting an image in two halves on two matrices and merging gives the whole image's matrix.
func TestMerge(t *testing.T) {
	label := []uint8{0, 0, 0, 1, 1, 1, 2, 2, 255}
	pred := []int32{0, 0, 1, 1, 1, 2, 2, 0, 1}
	whole := confusion(t, 3, pred, label)
	a := confusion(t, 3, pred[:4], label[:4])
	b := confusion(t, 3, pred[4:], label[4:])
	if err := a.Merge(b); err != nil {
		t.Fatal(err)
	}
	for i := range whole.Counts {
		if a.Counts[i] != whole.Counts[i] {
			t.Fatalf("merged %v, whole %v", a.Counts, whole.Counts)
		}
	}
	other, _ := NewConfusion(4)
	if err := a.Merge(other); err == nil || !strings.Contains(err.Error(), "4-class matrix") {
		t.Errorf("merging different K: %v", err)
	}
	a.Reset()
	if a.Pixels() != 0 {
		t.Error("Reset left counts")
	}
}

func TestAddErrors(t *testing.T) {
	c, _ := NewConfusion(3)
	for _, tc := range []struct {
		name string
		add  func() error
		want string
	}{
		{"label 3 of 3", func() error { return Add(c, []int32{0, 0}, []uint8{0, 3}) }, "label 3 at pixel 1 is outside [0, 3) and is not the ignore label 255"},
		{"negative label", func() error { return Add(c, []int32{0}, []int8{-1}) }, "label -1 at pixel 0"},
		{"prediction 7", func() error { return Add(c, []int32{7}, []uint8{0}) }, "prediction 7 at pixel 0 is outside [0, 3)"},
		{"negative prediction", func() error { return Add(c, []int64{-2}, []uint8{255}) }, "prediction -2"},
		{"lengths", func() error { return Add(c, []int32{0}, []uint8{0, 0}) }, "1 predicted pixels for 2 labelled pixels"},
		{"hand-built", func() error { return Add(&Confusion{K: 2}, []int32{0}, []uint8{0}) }, "not built by NewConfusion"},
		{"ignore is a class", func() error {
			return Add(&Confusion{K: 2, Ignore: 1, Counts: make([]int64, 4)}, []int32{0}, []uint8{0})
		}, "ignore label 1 is one of the 2 classes"},
	} {
		err := tc.add()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "metrics: ") {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
	if c.Pixels() != 0 {
		t.Errorf("failed Adds counted %d pixels", c.Pixels())
	}
	for _, k := range []int{0, 256} {
		if _, err := NewConfusion(k); err == nil {
			t.Errorf("NewConfusion(%d) accepted", k)
		}
	}
	// A matrix with another ignore label counts 255 as a class.
	big := &Confusion{K: 300, Ignore: -1, Counts: make([]int64, 300*300)}
	if err := Add(big, []uint16{255}, []uint16{255}); err != nil || big.At(255, 255) != 1 {
		t.Errorf("K=300 with Ignore=-1: %v", err)
	}
}

func TestTableAndJSON(t *testing.T) {
	s := confusion(t, 4, []int32{0, 2, 1, 1}, []uint8{0, 0, 1, 1}).Scores()
	table := s.Table([]string{"background", "cat", "dog"})
	want := `class           IoU      Acc
background    50.00    50.00
cat          100.00   100.00
dog            0.00        –
3                 –        –
mIoU 50.00  mAcc 75.00  aAcc 75.00  (4 pixels)
`
	if table != want {
		t.Errorf("table\n%s\nwant\n%s", table, want)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"miou":0.5,"mean_acc":0.75,"pixel_acc":0.75,"iou":[0.5,1,0,null],"acc":[0.5,1,null,null],"pixels":4}`; string(raw) != want {
		t.Errorf("JSON %s, want %s", raw, want)
	}
	var back Scores
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	checkScores(t, "JSON round trip", back, 0.5, 0.75, 0.75, []float64{0.5, 1, 0, nan}, []float64{0.5, 1, nan, nan})
}

func TestArgmaxLogits(t *testing.T) {
	// K=3, H=1, W=4: pixel 0 → class 2, pixel 1 → 0, pixel 2 a tie of 0 and 1 → 0, pixel 3 → 1.
	logits := []float32{
		0, 5, 1, -3, // class 0
		0, 4, 1, -1, // class 1
		9, -1, 0, -2, // class 2
	}
	pred, err := ArgmaxLogits(logits, 3, 1, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []int32{2, 0, 0, 1} {
		if pred[i] != want {
			t.Fatalf("argmax %v, want [2 0 0 1]", pred)
		}
	}
	if _, err := ArgmaxLogits(logits, 3, 2, 4); err == nil || !strings.Contains(err.Error(), "12 logits for shape [3, 2, 4], want 24") {
		t.Errorf("wrong size: %v", err)
	}
	logits[6] = float32(math.NaN())
	if _, err := ArgmaxLogits(logits, 3, 2, 2); err == nil || !strings.Contains(err.Error(), "class 1 at pixel (1, 0) is NaN") {
		t.Errorf("NaN: %v", err)
	}
	if _, err := ArgmaxLogits(nil, 0, 1, 1); err == nil {
		t.Error("K=0 accepted")
	}
}

// On random images the matrix route agrees with counting sets of pixels directly:
// IoU[c] = |pred=c ∧ label=c| / |(pred=c ∨ label=c) ∧ label≠ignore|.
func TestScoresMatchPixelSets(t *testing.T) {
	const k, n = 5, 2000
	rng := uint32(12345)
	next := func(m uint32) uint32 { rng = rng*1664525 + 1013904223; return (rng >> 8) % m }
	label := make([]uint8, n)
	pred := make([]int32, n)
	for i := range label {
		label[i] = uint8(next(k - 1)) // class 4 never labelled: Acc NaN, IoU 0
		if next(10) == 0 {
			label[i] = 255
		}
		pred[i] = int32(next(k))
	}
	s := confusion(t, k, pred, label).Scores()
	var sum float64
	for c := 0; c < k; c++ {
		var inter, union int
		for i := range label {
			if label[i] == 255 {
				continue
			}
			p, l := pred[i] == int32(c), label[i] == uint8(c)
			if p && l {
				inter++
			}
			if p || l {
				union++
			}
		}
		want := float64(inter) / float64(union)
		sum += want
		if math.Abs(s.IoU[c]-want) > 1e-12 {
			t.Errorf("class %d: IoU %v, pixel sets give %v", c, s.IoU[c], want)
		}
	}
	if math.Abs(s.MIoU-sum/k) > 1e-12 || !math.IsNaN(s.Acc[4]) {
		t.Errorf("mIoU %v, want %v; Acc[4] %v, want NaN", s.MIoU, sum/k, s.Acc[4])
	}
}
