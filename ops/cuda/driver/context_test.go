//go:build cgo

package driver

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func floatBytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func bytesFloat(b []byte) []float32 {
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// TestContextRoundTrip drives the whole path a step takes — context, allocation, copies in
// and out (from Go memory and from pinned staging), module, kernel lookup, launch with
// pointer, float and int arguments, and a kernel's failure — against the stand-in driver,
// whose axpy kernel runs on the host.
func TestContextRoundTrip(t *testing.T) {
	t.Setenv(LibraryEnv, fakeDriver(t, 0, 13000, 2))
	c, err := Open(1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.Device.Name != "NVIDIA Fake H200" {
		t.Fatalf("opened %s", c.Device)
	}
	const n = 5
	x, y := []float32{1, 2, 3, 4, 5}, []float32{10, 20, 30, 40, 50}
	px, err := c.Alloc(4 * n)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Free(px)
	py, _ := c.Alloc(4 * n)
	defer c.Free(py)
	if err := c.CopyIn(px, floatBytes(x)); err != nil {
		t.Fatal(err)
	}
	stage, err := c.AllocPinned(4 * n)
	if err != nil {
		t.Fatal(err)
	}
	defer c.FreePinned(stage)
	copy(stage.Bytes(), floatBytes(y))
	if err := c.CopyInPinned(py, stage, 4*n); err != nil {
		t.Fatal(err)
	}
	mod, err := c.LoadPTX([]byte(".version 7.0\n.target sm_80\n.visible .entry axpy(\n.visible .entry trap(\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer mod.Unload()
	axpy, err := mod.Function("axpy")
	if err != nil {
		t.Fatal(err)
	}
	// Two blocks of two threads cover four of the five values: the launch's size reaches
	// the kernel too.
	if err := c.Launch(axpy, Dim3{2, 1, 1}, Dim3{2, 1, 1}, 0, py, px, float32(0.5), int32(n)); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 4*n)
	if err := c.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := c.CopyOut(out, py); err != nil {
		t.Fatal(err)
	}
	if got, want := bytesFloat(out), []float32{10.5, 21, 31.5, 42, 50}; !slices.Equal(got, want) {
		t.Errorf("axpy gave %v, want %v", got, want)
	}
	if err := c.Zero(py, 4*n); err != nil {
		t.Fatal(err)
	}
	_ = c.CopyOut(out, py)
	if got := bytesFloat(out); !slices.Equal(got, make([]float32, n)) {
		t.Errorf("after Zero: %v", got)
	}

	if _, err := mod.Function("missing"); err == nil || !strings.Contains(err.Error(), "cuModuleGetFunction(missing)") {
		t.Errorf("a missing kernel: %v", err)
	}
	trap, _ := mod.Function("trap")
	var ce *Error
	if err := c.Launch(trap, Dim3{1, 1, 1}, Dim3{1, 1, 1}, 0); !errors.As(err, &ce) || ce.Code != 719 {
		t.Errorf("a failing kernel: %v", err)
	}
	// An untyped constant is a Go int, which no kernel parameter is.
	if err := c.Launch(axpy, Dim3{1, 1, 1}, Dim3{1, 1, 1}, 0, py, px, float32(0.5), n); err == nil || !strings.Contains(err.Error(), "argument 3 is a int") {
		t.Errorf("an int argument: %v", err)
	}
	if _, err := c.LoadPTX([]byte("not ptx")); err == nil {
		t.Error("bad PTX loaded")
	}
	if _, err := Open(2); err == nil || !strings.Contains(err.Error(), "no GPU 2: the driver sees 2") {
		t.Errorf("Open(2): %v", err)
	}
}

func TestArgSlots(t *testing.T) {
	s, err := argSlots("k", []any{Ptr(0xdeadbeef00), int32(-1), uint32(7), int64(-2), float32(1.5), 2.5})
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{0xdeadbeef00, 0xffffffff, 7, math.MaxUint64 - 1, uint64(math.Float32bits(1.5)), math.Float64bits(2.5)}
	for i := range want {
		if s[i] != want[i] {
			t.Errorf("slot %d: %#x, want %#x", i, s[i], want[i])
		}
	}
	if _, err := argSlots("k", []any{1}); err == nil || !strings.Contains(err.Error(), "argument 0 is a int") {
		t.Errorf("an int: %v", err)
	}
}
