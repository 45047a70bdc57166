package metrics

import "fmt"

// DefaultIgnore is the label value that marks pixels to leave out (VOC's object borders,
// mmseg's padding).
const DefaultIgnore = 255

// Confusion counts pixels by (label, prediction) for K classes.
type Confusion struct {
	K      int
	Ignore int     // label value that is skipped; DefaultIgnore unless changed before Add
	Counts []int64 // K×K, row-major: Counts[label*K+pred]
}

// NewConfusion returns an empty matrix for k classes that ignores label 255.
func NewConfusion(k int) (*Confusion, error) {
	if k < 1 {
		return nil, fmt.Errorf("metrics: %d classes, want at least 1", k)
	}
	if k > DefaultIgnore {
		return nil, fmt.Errorf("metrics: %d classes include label %d, which means 'ignore'; set Ignore to a value outside [0, %d) on a Confusion built by hand", k, DefaultIgnore, k)
	}
	return &Confusion{K: k, Ignore: DefaultIgnore, Counts: make([]int64, k*k)}, nil
}

// At is the number of pixels labelled label and predicted pred.
func (c *Confusion) At(label, pred int) int64 { return c.Counts[label*c.K+pred] }

// Integer is any integer type labels and predictions come in (uint8 label images, int32
// argmax maps, …).
type Integer interface {
	~int | ~int8 | ~int16 | ~int32 | ~int64 | ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

// Add counts one image (or a batch laid out the same way in both slices): pred[i] is the
// predicted class of the pixel whose label is label[i]. Pixels labelled c.Ignore are skipped.
// A label outside [0, K) that is not the ignore label, or a prediction outside [0, K), is an
// error and nothing of the image is counted.
func Add[P, L Integer](c *Confusion, pred []P, label []L) error {
	if err := c.check(); err != nil {
		return err
	}
	if len(pred) != len(label) {
		return fmt.Errorf("metrics: %d predicted pixels for %d labelled pixels", len(pred), len(label))
	}
	k := uint64(c.K)
	for i, l := range label {
		// A negative value converts to a huge uint64, so one comparison catches both ends.
		if uint64(l) >= k && int64(l) != int64(c.Ignore) {
			return fmt.Errorf("metrics: label %d at pixel %d is outside [0, %d) and is not the ignore label %d", int64(l), i, c.K, c.Ignore)
		}
		if uint64(pred[i]) >= k {
			return fmt.Errorf("metrics: prediction %d at pixel %d is outside [0, %d)", int64(pred[i]), i, c.K)
		}
	}
	for i, l := range label {
		if int64(l) == int64(c.Ignore) {
			continue
		}
		c.Counts[int(l)*c.K+int(pred[i])]++
	}
	return nil
}

// Merge adds o's counts into c (for evaluation split across workers).
func (c *Confusion) Merge(o *Confusion) error {
	if err := c.check(); err != nil {
		return err
	}
	if err := o.check(); err != nil {
		return err
	}
	if o.K != c.K || o.Ignore != c.Ignore {
		return fmt.Errorf("metrics: cannot merge a %d-class matrix (ignore %d) into a %d-class one (ignore %d)", o.K, o.Ignore, c.K, c.Ignore)
	}
	for i, n := range o.Counts {
		c.Counts[i] += n
	}
	return nil
}

// Reset sets every count to zero.
func (c *Confusion) Reset() { clear(c.Counts) }

// Pixels is the number of pixels counted.
func (c *Confusion) Pixels() int64 {
	var n int64
	for _, v := range c.Counts {
		n += v
	}
	return n
}

func (c *Confusion) check() error {
	if c == nil || c.K < 1 || len(c.Counts) != c.K*c.K {
		return fmt.Errorf("metrics: confusion matrix not built by NewConfusion")
	}
	if c.Ignore >= 0 && c.Ignore < c.K {
		return fmt.Errorf("metrics: ignore label %d is one of the %d classes", c.Ignore, c.K)
	}
	return nil
}
