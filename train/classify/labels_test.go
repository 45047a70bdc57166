package classify

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ssl4dp/ssl4dp/data"
)

// The dominant class ignores background and the ignore label, and breaks ties low.
func TestDominantClassHand(t *testing.T) {
	for _, c := range []struct {
		pix  []uint8
		want int
	}{
		{[]uint8{0, 0, 0, 0}, 0},
		{[]uint8{0, 0, 0, 3}, 3},
		{[]uint8{255, 255, 255, 2}, 2},
		{[]uint8{4, 4, 2, 2, 0, 0, 0}, 2},
		{[]uint8{5, 5, 5, 1, 1, 0}, 5},
	} {
		if got := DominantClass(&data.Mask{W: len(c.pix), H: 1, Pix: c.pix}); got != c.want {
			t.Errorf("%v: %d, want %d", c.pix, got, c.want)
		}
	}
}

// On a labelled spec the item's label is the dominant class of its crop's mask: with the
// crop covering the whole image (scale 1) it is the whole mask's dominant class.
func TestLabelsFromTheCropsMask(t *testing.T) {
	src, err := Open("synthetic:size=32,n=16,objects=1", "train")
	if err != nil {
		t.Fatal(err)
	}
	v := trainView(32)
	v.Scale, v.Ratio = [2]float64{1, 1}, [2]float64{1, 1}
	task := itemTask{pipe: v.Pipeline(), fromMask: true}
	for i := 0; i < src.Data.Len(); i++ {
		s, err := src.Data.Load(i)
		if err != nil {
			t.Fatal(err)
		}
		it, err := task.Item(s, rand.New(rand.NewPCG(1, uint64(i))))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := int(it.Labels.Pix[0]), DominantClass(s.Mask); got != want || want == 0 {
			t.Fatalf("%s: label %d, want the mask's dominant class %d (not background)", s.ID, got, want)
		}
		if it.Views[0].Mask != nil {
			t.Fatalf("%s: the view keeps its mask", s.ID)
		}
	}
}

// A dataset without labels is refused with the way out.
func TestOpenRefusesUnlabelled(t *testing.T) {
	_, err := Open("folder:"+t.TempDir(), "train")
	if err == nil || !strings.Contains(err.Error(), "has no sub-folders") {
		t.Fatalf("err %v", err)
	}
}
