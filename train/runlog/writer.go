package runlog

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
)

// Writer appends records to a metrics.jsonl file. It is safe for concurrent use (training and
// validation may log from different goroutines).
type Writer struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

// Open opens path for appending, creating it if needed. If the file ends in a torn line (the
// last run was killed mid-write), that fragment is cut off first so that the next record
// starts a line of its own.
func Open(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("runlog: %w", err)
	}
	if err := dropTornTail(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("runlog: %s: %w", path, err)
	}
	// Reopen in append mode: every write then lands at the end even if another process
	// (a second viewer, a shell redirect) has appended in between.
	f.Close()
	f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("runlog: %w", err)
	}
	return &Writer{f: f, path: path}, nil
}

// dropTornTail truncates f after its last newline.
func dropTornTail(f *os.File) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	size := st.Size()
	if size == 0 {
		return nil
	}
	// Search backwards in blocks for the last newline.
	const block = 4096
	buf := make([]byte, block)
	end := size
	for end > 0 {
		start := max(0, end-block)
		n, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return err
		}
		if i := bytes.LastIndexByte(buf[:n], '\n'); i >= 0 {
			if start+int64(i)+1 == size {
				return nil // ends cleanly
			}
			return f.Truncate(start + int64(i) + 1)
		}
		end = start
	}
	return f.Truncate(0) // one torn line and nothing else
}

// Train appends a training record.
func (w *Writer) Train(r TrainRecord) error { return w.write(r.wire()) }

// Val appends a validation record.
func (w *Writer) Val(r ValRecord) error {
	return w.write(wireVal{Kind: kindVal, Step: r.Step, Epoch: jfloat(r.Epoch), Scores: r.Scores, TimeS: jfloat(r.TimeS)})
}

func (w *Writer) write(v any) error {
	line, err := encodeLine(v)
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return fmt.Errorf("runlog: %s: writer is closed", w.path)
	}
	// One write per record: the kernel has the whole line or none of it once this returns,
	// so killing the process cannot tear a record that was already logged.
	if _, err := w.f.Write(line); err != nil {
		return fmt.Errorf("runlog: %s: %w", w.path, err)
	}
	return nil
}

// Sync flushes the file to disk (call it with each checkpoint so that the record survives a
// power cut as the checkpoint does).
func (w *Writer) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	return w.f.Sync()
}

// Close closes the file; later writes fail.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f = nil
	return err
}
