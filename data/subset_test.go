package data

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func TestParseLabels(t *testing.T) {
	for _, c := range []struct {
		in   string
		n    int // of 1464 images
		want string
	}{
		{"", 1464, "all"}, {"all", 1464, "all"}, {"1/1", 1464, "all"}, {"1.0", 1464, "all"},
		{"1/8", 183, "1/8"}, {"1/16", 91, "1/16"}, {"0.125", 183, "0.125"}, {"100", 100, "100"},
		{"1", 1, "1"}, {"1/10000", 1, "1/10000"},
	} {
		l, err := ParseLabels(c.in)
		if err != nil {
			t.Fatalf("%q: %v", c.in, err)
		}
		k, err := l.Of(1464)
		if err != nil || k != c.n || l.String() != c.want {
			t.Errorf("%q: %d images (%v), %q; want %d, %q", c.in, k, err, l, c.n, c.want)
		}
	}
	for _, bad := range []string{"0", "-3", "0/8", "9/8", "1.5", "x", "1/0", "half"} {
		if _, err := ParseLabels(bad); err == nil || !strings.Contains(err.Error(), "--labels") {
			t.Errorf("%q: err %v, want a --labels error", bad, err)
		}
	}
	l, _ := ParseLabels("2000")
	if _, err := l.Of(1464); err == nil || !strings.Contains(err.Error(), "only 1464") {
		t.Errorf("a count above the split: %v", err)
	}
}

func TestLabelSubset(t *testing.T) {
	a := LabelSubset(1464, 183, 1)
	if len(a) != 183 || !slices.IsSorted(a) || len(slices.Compact(slices.Clone(a))) != 183 {
		t.Fatalf("not 183 distinct ascending indices: %v", a[:5])
	}
	if !slices.Equal(a, LabelSubset(1464, 183, 1)) {
		t.Error("same (n, k, seed) gave another subset")
	}
	if slices.Equal(a, LabelSubset(1464, 183, 2)) {
		t.Error("seeds 1 and 2 gave the same subset")
	}
	// Nested: a seed's 1/16 lies inside its 1/8.
	for _, i := range LabelSubset(1464, 91, 1) {
		if _, ok := slices.BinarySearch(a, i); !ok {
			t.Fatalf("the 1/16 subset's image %d is not in the 1/8 subset", i)
		}
	}
}

// TestLabelSubsetAcrossProcesses pins the subset to values printed by a fresh process, so
// that a grid's cells (one process each, on a cluster) fine-tune on the same images.
func TestLabelSubsetAcrossProcesses(t *testing.T) {
	if os.Getenv("SSL4DP_PRINT_SUBSET") != "" {
		fmt.Println(LabelSubset(50, 6, 3))
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^TestLabelSubsetAcrossProcesses$")
	cmd.Env = append(os.Environ(), "SSL4DP_PRINT_SUBSET=1")
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(LabelSubset(50, 6, 3))
	if got := strings.SplitN(string(out), "\n", 2)[0]; got != want {
		t.Errorf("another process chose %s, this one %s", got, want)
	}
}

func TestSubset(t *testing.T) {
	ds, err := Open("synthetic:n=40,val=8", Options{})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ParseLabels("1/8")
	sub, err := Subset(ds, l, 7)
	if err != nil {
		t.Fatal(err)
	}
	idx := LabelSubset(40, 5, 7)
	if sub.Len() != 5 || !strings.Contains(sub.Name(), "labels 1/8: 5 of 40 images (seed 7)") {
		t.Fatalf("len %d, name %q", sub.Len(), sub.Name())
	}
	for i, j := range idx {
		a, _ := sub.Load(i)
		b, _ := ds.Load(j)
		if a.ID != b.ID || !slices.Equal(a.Image.Pix, b.Image.Pix) || !slices.Equal(a.Mask.Pix, b.Mask.Pix) {
			t.Fatalf("subset image %d is not the split's image %d", i, j)
		}
	}
	if all, _ := Subset(ds, Labels{}, 7); all != ds {
		t.Error("labels all should return the split itself")
	}
}
