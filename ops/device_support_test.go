package ops

import (
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"

	"github.com/ssl4dp/ssl4dp/ops/device"
)

// TestDeviceDispatchIsFreeOnTheCPU: the check every op makes before its CPU kernel allocates
// nothing for host tensors, and sends device tensors (and only those) to the device.
func TestDeviceDispatchIsFreeOnTheCPU(t *testing.T) {
	a := tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float32))
	b := tensor.New(tensor.WithShape(2, 3), tensor.Of(tensor.Float32))
	var v1, v2 G.Value = a, b
	allocs := testing.AllocsPerRun(100, func() {
		if e, err := devOf("test", a, b); e != nil || err != nil {
			t.Fatal(e, err)
		}
		if e, _, err := valuesOn("test", v1, v2); e != nil || err != nil {
			t.Fatal(e, err)
		}
	})
	if allocs != 0 {
		t.Errorf("the dispatch check allocates %v times on host tensors, want 0", allocs)
	}
	eng := device.NewEngine(device.NewEmulated())
	d := eng.New(2, 3)
	if e, err := devOf("test", d, d); e != eng || err != nil {
		t.Errorf("device tensors: engine %v, error %v", e, err)
	}
	if _, err := devOf("test", a, d); err == nil {
		t.Error("a host and a device input: no error")
	}
	if _, _, err := valuesOn("test", G.NewF32(1), d); err == nil {
		t.Error("a host scalar before a device tensor: no error")
	}
}
