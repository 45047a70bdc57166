//go:build !linux

package runlog

import (
	"io"
	"os"
)

// terminalFD is the portable guess: a character device that is not TERM=dumb.
func terminalFD(w io.Writer) (uintptr, bool) {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return 0, false
	}
	st, err := f.Stat()
	return f.Fd(), err == nil && st.Mode()&os.ModeCharDevice != 0
}

func terminalWidth(uintptr) int { return 0 }
