package importer

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// isolated runs the calling test in a child process and reports a crash there as this
// test's failure. A panic inside Gorgonia's machine goroutine cannot be recovered in the
// test and would abort every other test of the package. It returns true in the child,
// which then runs the test body.
func isolated(t *testing.T) bool {
	t.Helper()
	if os.Getenv("SSL4DP_IMPORTER_CHILD") == t.Name() {
		return true
	}
	args := []string{"-test.run=^" + t.Name() + "$", "-test.v"}
	if testing.Short() {
		args = append(args, "-test.short")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "SSL4DP_IMPORTER_CHILD="+t.Name())
	out, err := cmd.CombinedOutput()
	msg := string(out)
	if err != nil {
		if i := strings.Index(msg, "panic:"); i >= 0 {
			msg = msg[i:min(len(msg), i+900)]
		}
		t.Fatalf("%v\n%s", err, msg)
	}
	for _, line := range strings.Split(msg, "\n") {
		if strings.Contains(line, "_test.go:") {
			t.Log(strings.TrimSpace(line))
		}
	}
	return false
}

// A dilated convolution whose outer taps fall wholly outside a small input — MoCo's FCN
// head (3×3, dilation 6, pad 6) on the 3×4 map a 33×49 image gives at output stride 16 —
// must match onnxruntime. At the time of writing ops.Conv2D's im2col slices
// src[wlo+offW : whi+offW] for an empty tap range with a negative offset and panics
// ("slice bounds out of range [:-2]").
func TestConvDilationBeyondInput(t *testing.T) {
	if !isolated(t) {
		return
	}
	lc := lowerCase{name: "dilation beyond input", build: func(g *graph) {
		g.node("Conv", []string{"x", "w"}, []string{"y"}, ia("dilations", 6, 6), ia("pads", 6, 6, 6, 6))
	}, feeds: feeds("x", randFeed(60, 1, 2, 3, 4), "w", randFeed(61, 2, 2, 3, 3))}
	compareORT(t, lc.model(), lc.feeds, Options{}, 1e-5)
	checkGradients(t, lc.model(), lc.feeds, false)
}
