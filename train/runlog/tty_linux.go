package runlog

import (
	"io"
	"os"
	"syscall"
	"unsafe"
)

// terminalFD reports whether w is a terminal (the TCGETS ioctl succeeds on it, which it does
// not on files, pipes or /dev/null) and returns its descriptor. TERM=dumb counts as no
// terminal: such a terminal cannot redraw a line.
func terminalFD(w io.Writer) (uintptr, bool) {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return 0, false
	}
	var t syscall.Termios
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return f.Fd(), errno == 0
}

// terminalWidth asks the terminal for its width in columns (0 if it does not say).
func terminalWidth(fd uintptr) int {
	var ws struct{ Row, Col, X, Y uint16 }
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCGWINSZ, uintptr(unsafe.Pointer(&ws))); errno != 0 {
		return 0
	}
	return int(ws.Col)
}
