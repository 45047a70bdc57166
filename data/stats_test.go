package data

import (
	"bytes"
	"strings"
	"testing"
)

// TestStats counts the VOC fixture's pixels by hand and compares.
func TestStats(t *testing.T) {
	dir, masks := vocFixture(t)
	ds, err := Open("voc:"+dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Stats(ds, 0)
	if err != nil {
		t.Fatal(err)
	}
	var person, cat, ignore int64
	for _, m := range masks[:4] {
		for _, v := range m.Pix {
			switch v {
			case 15:
				person++
			case 8:
				cat++
			case Ignore:
				ignore++
			}
		}
	}
	if s.Images != 4 || s.Pixels[15] != person || s.Pixels[8] != cat || s.Ignore != ignore || s.Present[8] != 2 || s.Present[15] != 4 {
		t.Fatalf("summary %+v; want person %d cat %d ignore %d", s, person, cat, ignore)
	}
	if s.MinW != 40 || s.MaxW != 46 || s.MinH != 30 {
		t.Fatalf("sizes %d–%d x %d", s.MinW, s.MaxW, s.MinH)
	}
	var b bytes.Buffer
	if err := s.Write(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "person") || !strings.Contains(b.String(), "ignore") {
		t.Fatalf("table:\n%s", b.String())
	}
}
