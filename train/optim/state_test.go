package optim

import (
	"bytes"
	"encoding/binary"
	"math"
	"strings"
	"testing"
)

// twoParams returns a fresh model of two parameters and its optimizer after one step.
func twoParams(t *testing.T, names ...string) (*SGD, []*Param) {
	t.Helper()
	if len(names) == 0 {
		names = []string{"a.weight", "b.weight"}
	}
	var params []*Param
	for i, n := range names {
		p := param(n, []int{1, 2}, 1, 2)
		p.Grad[0], p.Grad[1] = float32(i+1), -1
		params = append(params, p)
	}
	opt, err := New(params, Config{Momentum: 0.9, WeightDecay: 1e-4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return opt, params
}

func saved(t *testing.T, opt *SGD) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := opt.SaveState(&b); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestStateRoundTrip(t *testing.T) {
	opt, _ := twoParams(t)
	if err := opt.Step(0.1); err != nil {
		t.Fatal(err)
	}
	if err := opt.Step(0.1); err != nil {
		t.Fatal(err)
	}
	data := saved(t, opt)
	if !bytes.HasPrefix(data, []byte("S4DPOPT\n\x01\x00\x00\x00")) {
		t.Errorf("state starts %q", data[:12])
	}
	fresh, _ := twoParams(t)
	if err := fresh.LoadState(bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if fresh.StepCount() != 2 {
		t.Errorf("step %d, want 2", fresh.StepCount())
	}
	for i := range opt.buf {
		for j := range opt.buf[i] {
			if math.Float32bits(fresh.buf[i][j]) != math.Float32bits(opt.buf[i][j]) {
				t.Fatalf("buffer %d[%d] = %v, want %v", i, j, fresh.buf[i][j], opt.buf[i][j])
			}
		}
	}
	// Before any step there are no buffers; that state loads too.
	empty, _ := twoParams(t)
	other, _ := twoParams(t)
	if err := other.LoadState(bytes.NewReader(saved(t, empty))); err != nil {
		t.Fatal(err)
	}
}

func TestLoadStateErrors(t *testing.T) {
	opt, _ := twoParams(t)
	if err := opt.Step(0.1); err != nil {
		t.Fatal(err)
	}
	good := saved(t, opt)
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 1
		return b
	}
	version := append([]byte(nil), good...)
	binary.LittleEndian.PutUint32(version[8:], 2)
	renamed, _ := twoParams(t, "a.weight", "c.weight")
	renamed.Step(0.1)
	bigger := param("b.weight", []int{3}, 1, 2, 3)
	resized, err := New([]*Param{param("a.weight", []int{1, 2}, 1, 2), bigger}, Config{Momentum: 0.9}, nil)
	if err != nil {
		t.Fatal(err)
	}
	resized.Step(0.1)
	only, _ := twoParams(t, "a.weight")
	only.Step(0.1)

	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"not ours", []byte("PK\x03\x04 a zip file, say"), "not an ssl4dp optimizer state"},
		{"newer version", version, "format version 2, this ssl4dp reads version 1"},
		{"truncated data", good[:len(good)-9], "truncated"},
		{"no checksum", good[:len(good)-4], "truncated"},
		{"flipped data bit", flip(len(good) - 6), "corrupt (checksum"},
		{"broken header", flip(16), "header"},
		{"extra bytes", append(append([]byte(nil), good...), 0), "extra bytes"},
		{"other names", saved(t, renamed), "buffers for 1 parameters this model lacks: c.weight"},
		{"other sizes", saved(t, resized), `"b.weight" has 3 values, the parameter 2`},
		{"missing buffer", saved(t, only), "no momentum buffer for 1 parameters: b.weight"},
	} {
		target, _ := twoParams(t)
		err := target.LoadState(bytes.NewReader(tc.data))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "optim: ") {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
		if target.StepCount() != 0 || target.buf[0] != nil {
			t.Errorf("%s: a failed load changed the optimizer", tc.name)
		}
	}

	noMomentum, err := New([]*Param{param("a.weight", []int{1, 2}, 1, 2), param("b.weight", []int{1, 2}, 1, 2)}, Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := noMomentum.LoadState(bytes.NewReader(good)); err == nil || !strings.Contains(err.Error(), "momentum 0") {
		t.Errorf("buffers into a momentum-free optimizer: %v", err)
	}
}
