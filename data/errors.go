package data

import (
	"errors"
	"fmt"
	"sync"
)

// FileError reports a file that cannot be used: unreadable, of the wrong size, with labels
// out of range, or named in a list but missing. Err says what is wrong.
type FileError struct {
	File string // path of the offending file (or list file and line, "list.txt:3")
	Err  error
}

func (e *FileError) Error() string { return fmt.Sprintf("data: %s: %v", e.File, e.Err) }
func (e *FileError) Unwrap() error { return e.Err }

func fileErr(file, format string, args ...any) error {
	return &FileError{File: file, Err: fmt.Errorf(format, args...)}
}

// IsBadFile reports whether err is about a bad file (a *FileError), the kind of error that
// Options.SkipBad turns into a counted warning.
func IsBadFile(err error) bool {
	var fe *FileError
	return errors.As(err, &fe)
}

// warner serialises calls to the user's Warn hook and counts them; it is shared by a dataset
// and everything built on it, so workers may call it concurrently.
type warner struct {
	mu   sync.Mutex
	fn   func(error)
	n    int
	seen map[string]bool
}

func newWarner(fn func(error)) *warner { return &warner{fn: fn, seen: map[string]bool{}} }

// warn reports err once per file and counts it.
func (w *warner) warn(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := err.Error()
	var fe *FileError
	if errors.As(err, &fe) {
		key = fe.File
	}
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	w.n++
	if w.fn != nil {
		w.fn(err)
	}
}

func (w *warner) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// ErrSkipped marks a sample whose file was bad and skipped (Options.SkipBad): Load returns an
// error matching both ErrSkipped and the *FileError, and the Loader takes another sample.
var ErrSkipped = errors.New("bad file skipped")

type skipError struct{ err error }

func (e skipError) Error() string   { return "skipped: " + e.err.Error() }
func (e skipError) Unwrap() []error { return []error{ErrSkipped, e.err} }

// badFiles is the SkipBad policy a dataset embeds.
type badFiles struct {
	skip bool
	w    *warner
}

func newBadFiles(o Options) badFiles { return badFiles{skip: o.SkipBad, w: newWarner(o.Warn)} }

// bad passes err through, or, for a bad file under SkipBad, warns and marks it skipped.
func (b badFiles) bad(err error) error {
	if err == nil || !b.skip || !IsBadFile(err) {
		return err
	}
	b.w.warn(err)
	return skipError{err}
}

func (b badFiles) skipped() int { return b.w.count() }

// ExitCode makes the CLI exit with 2 (bad input) for a bad file.
func (e *FileError) ExitCode() int { return 2 }

// SpecError reports a --data spec that cannot be opened as written: an unknown kind or key,
// a bad value, a missing directory argument.
type SpecError struct {
	Spec string
	Msg  string
}

func (e *SpecError) Error() string { return fmt.Sprintf("data: spec %q: %s", e.Spec, e.Msg) }

// ExitCode makes the CLI exit with 2 (bad input) for a bad spec.
func (e *SpecError) ExitCode() int { return 2 }

func specErr(spec, format string, args ...any) error {
	return &SpecError{Spec: spec, Msg: fmt.Sprintf(format, args...)}
}
