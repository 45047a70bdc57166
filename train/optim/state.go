package optim

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"sort"
	"strings"
)

// The optimizer state file (written by SaveState, read by LoadState), all little-endian:
//
//	magic      8 bytes   "S4DPOPT\n"
//	version    uint32    stateVersion (1)
//	headerLen  uint32    length of the JSON header
//	header     JSON      {"optimizer":"sgd","step":N,"momentum":…,"nesterov":…,"weight_decay":…,
//	                      "buffers":[{"name":"conv1.weight","len":9408},…]}
//	buffers    float32 × len, for each header entry in order
//	crc        uint32    CRC-32 (IEEE) of every byte before it
//
// The JSON header keeps the file self-describing (a person can read it with head -c); the raw
// float32 data keeps a ResNet-50's buffers at 100 MB instead of several hundred in text. The
// hyperparameters in the header are informational: a resumed run may change them.
const (
	stateMagic   = "S4DPOPT\n"
	stateVersion = 1
	maxHeaderLen = 64 << 20
)

type stateHeader struct {
	Optimizer   string        `json:"optimizer"`
	Step        int           `json:"step"`
	Momentum    float64       `json:"momentum"`
	Nesterov    bool          `json:"nesterov"`
	WeightDecay float64       `json:"weight_decay"`
	Buffers     []bufferEntry `json:"buffers"`
}

type bufferEntry struct {
	Name string `json:"name"`
	Len  int    `json:"len"`
}

// SaveState writes the step count and the momentum buffers (by parameter name) to w.
// Use it with internal/atomicfile.Write so that a checkpoint is never half-written.
func (o *SGD) SaveState(w io.Writer) error {
	h := stateHeader{Optimizer: "sgd", Step: o.step, Momentum: o.cfg.Momentum, Nesterov: o.cfg.Nesterov, WeightDecay: o.cfg.WeightDecay}
	for i, b := range o.buf {
		if b != nil {
			h.Buffers = append(h.Buffers, bufferEntry{Name: o.params[i].Name, Len: len(b)})
		}
	}
	js, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("optim: encoding state header: %w", err)
	}
	crc := crc32.NewIEEE()
	bw := bufio.NewWriter(w)
	out := io.MultiWriter(bw, crc)
	var word [4]byte
	put := func(v uint32) {
		binary.LittleEndian.PutUint32(word[:], v)
		out.Write(word[:])
	}
	io.WriteString(out, stateMagic)
	put(stateVersion)
	put(uint32(len(js)))
	out.Write(js)
	chunk := make([]byte, 0, 1<<16)
	for _, b := range o.buf {
		for _, v := range b {
			chunk = binary.LittleEndian.AppendUint32(chunk, math.Float32bits(v))
			if len(chunk) == cap(chunk) {
				out.Write(chunk)
				chunk = chunk[:0]
			}
		}
	}
	out.Write(chunk)
	binary.LittleEndian.PutUint32(word[:], crc.Sum32())
	bw.Write(word[:])
	// bufio.Writer keeps its first error and returns it from Flush, so checking here covers
	// every write above.
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("optim: writing state: %w", err)
	}
	return nil
}

// LoadState replaces the step count and momentum buffers with those read from r. The state
// must belong to these parameters: every buffer in it must name one of them with the same
// size, and, once a step has been taken with momentum, every parameter must have a buffer.
// On any error the optimizer is left as it was.
func (o *SGD) LoadState(r io.Reader) error {
	crc := crc32.NewIEEE()
	in := &stateReader{r: bufio.NewReader(r), crc: crc}
	magic := in.bytes(len(stateMagic))
	if in.err == nil && string(magic) != stateMagic {
		return fmt.Errorf("optim: not an ssl4dp optimizer state (starts with %q, want %q)", magic, stateMagic)
	}
	version := in.uint32()
	if in.err == nil && version != stateVersion {
		return fmt.Errorf("optim: optimizer state format version %d, this ssl4dp reads version %d", version, stateVersion)
	}
	hlen := in.uint32()
	if in.err == nil && hlen > maxHeaderLen {
		return fmt.Errorf("optim: optimizer state header claims %d bytes (corrupt file?)", hlen)
	}
	js := in.bytes(int(hlen))
	if in.err != nil {
		return in.fail()
	}
	var h stateHeader
	if err := json.Unmarshal(js, &h); err != nil {
		return fmt.Errorf("optim: optimizer state header: %w", err)
	}
	if h.Optimizer != "sgd" {
		return fmt.Errorf("optim: optimizer state is for %q, want \"sgd\"", h.Optimizer)
	}
	bufs, err := o.matchBuffers(h)
	if err != nil {
		return err
	}
	for _, e := range h.Buffers {
		raw := in.bytes(4 * e.Len)
		if in.err != nil {
			return in.fail()
		}
		b := make([]float32, e.Len)
		for j := range b {
			b[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
		}
		bufs[o.indexOf(e.Name)] = b
	}
	want := crc.Sum32()
	got := in.uint32()
	if in.err != nil {
		return in.fail()
	}
	if got != want {
		return fmt.Errorf("optim: optimizer state is corrupt (checksum %08x, content gives %08x)", got, want)
	}
	if _, err := in.r.ReadByte(); err != io.EOF {
		return fmt.Errorf("optim: optimizer state has extra bytes after its checksum")
	}
	o.buf, o.step = bufs, h.Step
	return nil
}

// matchBuffers checks the header's buffer list against the parameters and returns a fresh
// (still empty) buffer table.
func (o *SGD) matchBuffers(h stateHeader) ([][]float32, error) {
	if h.Step < 0 {
		return nil, fmt.Errorf("optim: optimizer state has step %d", h.Step)
	}
	listed := map[string]bool{}
	var unknown, sizes []string
	for _, e := range h.Buffers {
		if listed[e.Name] {
			return nil, fmt.Errorf("optim: optimizer state lists parameter %q twice", e.Name)
		}
		listed[e.Name] = true
		i := o.indexOf(e.Name)
		switch {
		case i < 0:
			unknown = append(unknown, e.Name)
		case e.Len != len(o.params[i].Value):
			sizes = append(sizes, fmt.Sprintf("%q has %d values, the parameter %d", e.Name, e.Len, len(o.params[i].Value)))
		}
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("optim: optimizer state has buffers for %d parameters this model lacks: %s", len(unknown), listNames(unknown))
	}
	if len(sizes) > 0 {
		return nil, fmt.Errorf("optim: optimizer state: %d momentum buffers differ in size: %s", len(sizes), listNames(sizes))
	}
	if len(h.Buffers) > 0 && o.cfg.Momentum == 0 {
		return nil, fmt.Errorf("optim: optimizer state has momentum buffers but this optimizer has momentum 0")
	}
	if h.Step > 0 && o.cfg.Momentum > 0 {
		var missing []string
		for _, p := range o.params {
			if !listed[p.Name] {
				missing = append(missing, p.Name)
			}
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("optim: optimizer state (step %d) has no momentum buffer for %d parameters: %s", h.Step, len(missing), listNames(missing))
		}
	}
	return make([][]float32, len(o.params)), nil
}

func (o *SGD) indexOf(name string) int {
	for i, p := range o.params {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// listNames shows up to five names, sorted, and how many more there are.
func listNames(names []string) string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	if len(s) > 5 {
		return strings.Join(s[:5], ", ") + fmt.Sprintf(" and %d more", len(s)-5)
	}
	return strings.Join(s, ", ")
}

// stateReader reads fixed-size fields, feeding the checksum, with a sticky error.
type stateReader struct {
	r   *bufio.Reader
	crc hash.Hash32
	err error
}

func (s *stateReader) bytes(n int) []byte {
	if s.err != nil {
		return nil
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		s.err = err
		return nil
	}
	s.crc.Write(b)
	return b
}

func (s *stateReader) uint32() uint32 {
	b := s.bytes(4)
	if b == nil {
		return 0
	}
	return binary.LittleEndian.Uint32(b)
}

func (s *stateReader) fail() error {
	if errors.Is(s.err, io.EOF) || errors.Is(s.err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("optim: optimizer state is truncated")
	}
	return fmt.Errorf("optim: reading optimizer state: %w", s.err)
}
