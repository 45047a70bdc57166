package device

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"

	"gorgonia.org/tensor"
)

func TestEmulatedMemory(t *testing.T) {
	d := NewEmulated()
	p, err := d.Alloc(10 * 4)
	if err != nil {
		t.Fatal(err)
	}
	q, _ := d.Alloc(4)
	if p>>48 != 0x5d1e || p%emuAlign != 0 || q <= p+40 {
		t.Fatalf("addresses %#x, %#x: want tagged 0x5d1e…, 256-aligned, apart", uint64(p), uint64(q))
	}
	in := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if err := d.CopyIn(p, Bytes32(in)); err != nil {
		t.Fatal(err)
	}
	if err := d.Zero(p.Add(8), 8); err != nil {
		t.Fatal(err)
	}
	if err := d.Copy(q, p.Add(36), 4); err != nil {
		t.Fatal(err)
	}
	out := make([]float32, 10)
	if err := d.CopyOut(Bytes32(out), p); err != nil {
		t.Fatal(err)
	}
	want := []float32{1, 2, 0, 0, 5, 6, 7, 8, 9, 10}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("after copy in and zero: %v, want %v", out, want)
		}
	}
	one := make([]float32, 1)
	d.CopyOut(Bytes32(one), q)
	if one[0] != 10 {
		t.Fatalf("device copy gave %v, want 10", one[0])
	}
	// Every misuse is an error naming what went wrong.
	for name, err := range map[string]error{
		"past the end":  d.CopyOut(make([]byte, 44), p),
		"host pointer":  d.CopyIn(Ptr(0xc000010000), []byte{1}),
		"no allocation": d.Zero(p.Add(300), 1),
		"interior free": d.Free(p.Add(4)),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if err := d.Free(p); err != nil {
		t.Fatal(err)
	}
	if err := d.CopyOut(Bytes32(one), p); err == nil || !strings.Contains(err.Error(), "no live allocation") {
		t.Errorf("use after free: %v, want an error saying freed", err)
	}
	if d.Live() != 4 {
		t.Errorf("live bytes %d after freeing the 40-byte block, want 4", d.Live())
	}
}

// TestEmulatedGemm checks all four transposes against the definition, with a leading
// dimension wider than the matrix and beta ≠ 0.
func TestEmulatedGemm(t *testing.T) {
	d := NewEmulated()
	rng := rand.New(rand.NewPCG(1, 2))
	m, n, k, pad := 3, 5, 4, 2
	for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
		ar, ac := m, k
		if tr[0] {
			ar, ac = k, m
		}
		br, bc := k, n
		if tr[1] {
			br, bc = n, k
		}
		a, b, c := randn(rng, ar*(ac+pad)), randn(rng, br*(bc+pad)), randn(rng, m*n)
		want := make([]float64, m*n)
		for i := 0; i < m; i++ {
			for j := 0; j < n; j++ {
				s := 0.0
				for l := 0; l < k; l++ {
					av, bv := a[i*(ac+pad)+l], b[l*(bc+pad)+j]
					if tr[0] {
						av = a[l*(ac+pad)+i]
					}
					if tr[1] {
						bv = b[j*(bc+pad)+l]
					}
					s += float64(av) * float64(bv)
				}
				want[i*n+j] = 1.5*s - 0.5*float64(c[i*n+j])
			}
		}
		pa, pb, pc := upload(t, d, a), upload(t, d, b), upload(t, d, c)
		if err := d.Gemm(tr[0], tr[1], m, n, k, 1.5, pa, ac+pad, pb, bc+pad, -0.5, pc, n); err != nil {
			t.Fatal(err)
		}
		got := make([]float32, m*n)
		d.CopyOut(Bytes32(got), pc)
		for i := range got {
			if math.Abs(float64(got[i])-want[i]) > 1e-5*(1+math.Abs(want[i])) {
				t.Fatalf("transposes %v: C[%d] = %v, want %v", tr, i, got[i], want[i])
			}
		}
	}
	if err := d.Gemm(false, false, 2, 2, 2, 1, 0, 2, 0, 2, 0, 0, 2); err == nil {
		t.Error("gemm over address 0: no error")
	}
}

func TestEmulatedLaunch(t *testing.T) {
	d := NewEmulated()
	x := []float32{-2, -0.5, 0, 1, float32(math.NaN()), 3, -1}
	px, py := upload(t, d, x), upload(t, d, make([]float32, len(x)))
	g, b := Grid1D(len(x))
	if err := d.Launch("relu_fwd", g, b, 0, px, py, int32(len(x))); err != nil {
		t.Fatal(err)
	}
	got := make([]float32, len(x))
	d.CopyOut(Bytes32(got), py)
	for i, v := range x {
		w := max(v, 0)
		if math.Float32bits(got[i]) != math.Float32bits(w) {
			t.Fatalf("relu_fwd[%d] = %v, want %v", i, got[i], w)
		}
	}
	if d.Launches != 1 {
		t.Errorf("%d launches counted, want 1", d.Launches)
	}
	if err := d.Launch("relu_fwd", g, b, 0, x, py, int32(len(x))); err == nil {
		t.Error("a host slice as a pointer argument: no error")
	}
	if err := d.Launch("relu_fwd", g, b, 0, px, py); err == nil {
		t.Error("missing argument: no error")
	}
}

func TestEngineTensors(t *testing.T) {
	d := NewEmulated()
	e := NewEngine(d)
	host := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{1, 2, 3, 4, 5, 6}))
	a, err := e.Upload(host)
	if err != nil {
		t.Fatal(err)
	}
	if a.IsNativelyAccessible() || Of(a) != e || Of(host) != nil {
		t.Fatal("an uploaded tensor must be marked device memory, a host one not")
	}
	b, _ := e.Upload(tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float32{10, 20, 30, 40, 50, 60})))
	// tensor.Add dispatches to the engine, as Gorgonia's gradient accumulation calls it.
	s, err := tensor.Add(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tensor.Add(s, b, tensor.UseUnsafe()); err != nil {
		t.Fatal(err)
	}
	m, err := tensor.Mul(s, float32(0.5))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Download(m.(*tensor.Dense))
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{10.5, 21, 31.5, 42, 52.5, 63}
	for i, v := range got.Data().([]float32) {
		if v != want[i] {
			t.Fatalf("(a+2b)/2 = %v, want %v", got.Data(), want)
		}
	}
	if _, err := tensor.Add(a, host); err == nil {
		t.Error("device + host tensor: no error")
	}
	if _, err := e.Accessible(devMem{PtrOf(a), 24}); err == nil {
		t.Error("Accessible of device memory: no error")
	}
}

func randn(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func upload(t *testing.T, d Device, s []float32) Ptr {
	t.Helper()
	p, err := d.Alloc(4 * len(s))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.CopyIn(p, Bytes32(s)); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestHostReadOfDeviceMemoryFaults runs itself in a child process that reads a device
// tensor's elements as host memory: the child must die of a fault, not print a number.
func TestHostReadOfDeviceMemoryFaults(t *testing.T) {
	if os.Getenv("SSL4DP_DEVICE_DEREF_CHILD") == "1" {
		e := NewEngine(NewEmulated())
		a := e.New(4)
		fmt.Println("read", a.Data().([]float32)[0])
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostReadOfDeviceMemoryFaults$")
	cmd.Env = append(os.Environ(), "SSL4DP_DEVICE_DEREF_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err == nil || strings.Contains(string(out), "read ") {
		t.Fatalf("reading device memory from the host did not fault: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "fault") && !strings.Contains(string(out), "SIGSEGV") {
		t.Fatalf("child died, but not of a memory fault:\n%s", out)
	}
}

// TestEmulatedPinnedStaging: a pinned copy is queued, as on a GPU's stream, and runs at the
// next call that waits, so staging written again before then reaches the device (the
// single-buffer bug the emulated device is there to show), and after it does not; the bytes
// are counted; a copy longer than its staging, from freed staging or to a bad address is an
// error.
func TestEmulatedPinnedStaging(t *testing.T) {
	e := NewEmulated()
	d, _ := e.Alloc(8)
	st, err := e.AllocPinned(8)
	if err != nil {
		t.Fatal(err)
	}
	copy(st.Bytes(), "abcdefgh")
	if err := e.CopyInPinned(d, st, 8); err != nil {
		t.Fatal(err)
	}
	copy(st.Bytes(), "ABCD") // too early: the copy has not run
	got := make([]byte, 8)
	if err := e.CopyOut(got, d); err != nil {
		t.Fatal(err)
	}
	if string(got) != "ABCDefgh" {
		t.Fatalf("device holds %q, want the staging as it was when the copy ran, %q", got, "ABCDefgh")
	}
	if err := e.CopyInPinned(d, st, 4); err != nil {
		t.Fatal(err)
	}
	if err := e.Sync(); err != nil {
		t.Fatal(err)
	}
	copy(st.Bytes(), "wxyz") // after Sync: the device keeps what was copied
	if err := e.CopyOut(got, d); err != nil {
		t.Fatal(err)
	}
	if string(got) != "ABCDefgh" {
		t.Fatalf("device holds %q after a synced copy and a rewrite, want %q", got, "ABCDefgh")
	}
	if e.PinnedIn != 12 || e.BytesIn != 12 || e.BytesOut != 16 {
		t.Errorf("counted %d pinned, %d in, %d out; want 12, 12, 16", e.PinnedIn, e.BytesIn, e.BytesOut)
	}
	if err := e.CopyInPinned(d, st, 9); err == nil {
		t.Error("a 9-byte copy from 8 bytes of staging was accepted")
	}
	if err := e.CopyInPinned(d.Add(4), st, 8); err == nil {
		t.Error("a copy past the end of the device allocation was accepted")
	}
	if err := e.FreePinned(st); err != nil {
		t.Fatal(err)
	}
	if err := e.CopyInPinned(d, st, 4); err == nil {
		t.Error("a copy from freed staging was accepted")
	}
	if err := e.FreePinned(st); err == nil {
		t.Error("staging freed twice was accepted")
	}
}
