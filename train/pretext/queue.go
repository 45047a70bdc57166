package pretext

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
)

// Queue is MoCo's dictionary of negative keys (arXiv:1911.05722 §3.2): K rows of D values,
// a ring buffer that the newest keys overwrite oldest-first. It starts as random unit
// vectors, as facebookresearch/moco's builder.py (randn, normalised along D).
//
// The official code asserts K % batch == 0 so that each batch fills one aligned slot; this
// queue writes row by row and wraps around, which is the same thing when K divides, and
// also serves PLMoCo's dense queue, whose per-step count need not divide K.
type Queue struct {
	K, D int
	Data []float32 // [K, D], row-major: Data[r*D : (r+1)*D] is key r
	Ptr  int       // the row the next key goes to
	dev  *queueDev // its device copy in a resident run (device_state.go), else nil
}

// NewQueue makes a K×D queue of random unit rows drawn from seed.
func NewQueue(k, d int, seed uint64) (*Queue, error) {
	if k < 1 || d < 1 {
		return nil, errorf("queue: size %d×%d, want K ≥ 1 and D ≥ 1", k, d)
	}
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	q := &Queue{K: k, D: d, Data: make([]float32, k*d)}
	for i := 0; i < k; i++ {
		row := q.Data[i*d : (i+1)*d]
		for j := range row {
			row[j] = float32(r.NormFloat64())
		}
		normalizeRow(row)
	}
	return q, nil
}

// Enqueue writes rows (a multiple of D values, oldest first) at Ptr and advances it,
// wrapping around K.
func (q *Queue) Enqueue(rows []float32) error {
	if len(rows)%q.D != 0 {
		return errorf("queue: enqueue of %d values, want a multiple of D = %d", len(rows), q.D)
	}
	start := q.Ptr
	for off := 0; off < len(rows); off += q.D {
		copy(q.Data[q.Ptr*q.D:(q.Ptr+1)*q.D], rows[off:off+q.D])
		q.Ptr = (q.Ptr + 1) % q.K
	}
	return q.enqueueDevice(rows, start)
}

// queueMagic starts every saved queue ("queue.bin"): format version 1 is the magic, then K,
// D and Ptr as little-endian uint32, then K·D little-endian float32 values.
const queueMagic = "ssl4dp.queue.v1\n"

// MarshalBinary saves the queue exactly (checkpoints: a resumed run sees the same keys).
func (q *Queue) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(queueMagic)
	for _, v := range []int{q.K, q.D, q.Ptr} {
		binary.Write(&b, binary.LittleEndian, uint32(v))
	}
	raw := make([]byte, 4*len(q.Data))
	for i, v := range q.Data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	b.Write(raw)
	return b.Bytes(), nil
}

// UnmarshalBinary restores a saved queue into q, whose K and D must match the saved ones.
func (q *Queue) UnmarshalBinary(data []byte) error {
	head := len(queueMagic) + 12
	if len(data) < head || string(data[:len(queueMagic)]) != queueMagic {
		return errorf("queue: not a saved queue (want the %q header)", queueMagic[:len(queueMagic)-1])
	}
	u := func(i int) int { return int(binary.LittleEndian.Uint32(data[len(queueMagic)+4*i:])) }
	k, d, ptr := u(0), u(1), u(2)
	if k != q.K || d != q.D {
		return errorf("queue: saved queue is %d×%d, this run's is %d×%d (K×D); resume with the same queue size and dimension", k, d, q.K, q.D)
	}
	if ptr >= k {
		return errorf("queue: saved pointer %d outside [0, %d)", ptr, k)
	}
	if len(data) != head+4*k*d {
		return errorf("queue: saved queue has %d bytes of values, want %d for %d×%d", len(data)-head, 4*k*d, k, d)
	}
	for i := range q.Data {
		q.Data[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[head+4*i:]))
	}
	q.Ptr = ptr
	if q.dev != nil {
		q.dev.stale = true
	}
	return nil
}

// normalizeRow divides v by max(‖v‖₂, 1e-12) in place, as torch.nn.functional.normalize.
func normalizeRow(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	d := math.Max(math.Sqrt(s), normEps)
	for i, x := range v {
		v[i] = float32(float64(x) / d)
	}
}

// normalizeRows normalises every D-value row of v in place.
func normalizeRows(v []float32, d int) {
	for off := 0; off+d <= len(v); off += d {
		normalizeRow(v[off : off+d])
	}
}
