package retrieval

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"testing"

	"github.com/ssl4dp/ssl4dp/data"
	"github.com/ssl4dp/ssl4dp/evaluate/features"
)

// bruteForce is the O(N·M) reference: every similarity, a full sort (similarity descending,
// index ascending), the first k, softmax in float64, the weighted sum of the values.
func bruteForce(b *Bank, q []float32, k int, temperature float64) []float32 {
	m := b.Len()
	type cand struct {
		s float32
		i int
	}
	cs := make([]cand, m)
	for i := range m {
		cs[i] = cand{dot(q, b.Keys[i*b.C:(i+1)*b.C]), i}
	}
	sort.SliceStable(cs, func(x, y int) bool { return cs[x].s > cs[y].s })
	cs = cs[:min(k, m)]
	out := make([]float32, b.K)
	var z float64
	w := make([]float64, len(cs))
	for j, c := range cs {
		w[j] = math.Exp((float64(c.s) - float64(cs[0].s)) / temperature)
		z += w[j]
	}
	for j, c := range cs {
		f := float32(w[j] / z)
		for l, v := range b.Values[c.i*b.K : (c.i+1)*b.K] {
			out[l] += f * v
		}
	}
	return out
}

func randomBank(rng *rand.Rand, m, c, k int) *Bank {
	b := &Bank{C: c, K: k, Keys: make([]float32, m*c), Values: make([]float32, m*k)}
	for i := range m {
		key := b.Keys[i*c : (i+1)*c]
		if i%7 == 3 { // duplicates of an earlier key: exact ties, broken by index
			copy(key, b.Keys[(i-3)*c:(i-2)*c])
		} else {
			for j := range key {
				key[j] = float32(rng.NormFloat64())
			}
			normalise(key)
		}
		v := b.Values[i*k : (i+1)*k]
		v[rng.IntN(k)] = 0.7
		v[rng.IntN(k)] += 0.3
	}
	return b
}

// The search equals the brute-force reference bit for bit, with exact ties in the bank, for
// k below, at and above the bank size, and for one CPU or two (more queries than one piece).
func TestPredictEqualsBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	b := randomBank(rng, 300, 9, 4)
	nq := 2*piece + 17
	q := make([]float32, nq*b.C)
	for i := range nq {
		row := q[i*b.C : (i+1)*b.C]
		if i%5 == 0 { // a query equal to a bank key
			copy(row, b.Keys[(i%300)*b.C:(i%300+1)*b.C])
			continue
		}
		for j := range row {
			row[j] = float32(rng.NormFloat64())
		}
		normalise(row)
	}
	for _, k := range []int{1, 30, 300, 500} {
		for _, procs := range []int{1, 2} {
			prev := runtime.GOMAXPROCS(procs)
			got := b.Predict(q, k, DefaultTemperature)
			runtime.GOMAXPROCS(prev)
			for i := range nq {
				want := bruteForce(b, q[i*b.C:(i+1)*b.C], k, DefaultTemperature)
				if !slices.Equal(got[i*b.K:(i+1)*b.K], want) {
					t.Fatalf("k %d GOMAXPROCS %d query %d: %v, brute force %v", k, procs, i, got[i*b.K:(i+1)*b.K], want)
				}
			}
		}
	}
}

// blockImage: an h×w feature grid over an (h·f)×(w·f) mask; feat gives each cell's vector.
func blockImage(id string, h, w, f int, labels []int, feat func(l int) []float32) features.Image {
	c := len(feat(0))
	im := features.Image{ID: id, H: h, W: w, Feat: make([]float32, c*h*w), Mask: data.Mask{W: w * f, H: h * f, Pix: make([]uint8, w*f*h*f)}}
	for q, l := range labels {
		for ch, v := range feat(l) {
			im.Feat[ch*h*w+q] = v
		}
		y, x := q/w, q%w
		for dy := range f {
			for dx := range f {
				im.Mask.Pix[(y*f+dy)*w*f+x*f+dx] = uint8(l)
			}
		}
	}
	return im
}

// A patch's value is the class distribution of its footprint, ignored pixels left out; a
// patch with no labelled pixel stays out of the bank.
func TestBankLabelDistributions(t *testing.T) {
	id := func(l int) []float32 { return []float32{float32(l + 1), 1} }
	im := blockImage("a", 1, 3, 2, []int{0, 1, 2}, id)
	// cell 0: one pixel of class 1, one ignored; cell 2: all ignored.
	im.Mask.Pix[1] = 1
	im.Mask.Pix[0] = data.Ignore
	for _, p := range []int{4, 5, 10, 11} {
		im.Mask.Pix[p] = data.Ignore
	}
	s := &features.Set{Data: "t", Classes: []string{"a", "b", "c"}, C: 2, Images: []features.Image{im}}
	b, err := NewBank(s, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	// mask rows: [255 1 | 1 1 | 255 255] / [0 0 | 1 1 | 255 255] → cell 0: 1 of b, 2 of a.
	want := []float32{2.0 / 3, 1.0 / 3, 0, 0, 1, 0}
	if b.Len() != 2 || !slices.Equal(b.Values, want) {
		t.Errorf("bank of %d patches, values %v; want 2 patches, %v", b.Len(), b.Values, want)
	}
	if n := math.Hypot(float64(b.Keys[0]), float64(b.Keys[1])); math.Abs(n-1) > 1e-6 {
		t.Errorf("key norm %v, want 1", n)
	}
}

// A bank smaller than the train split takes ⌊size/images⌋ patches per image, the same ones
// for the same seed, and favours the patches of rare classes.
func TestBankSampling(t *testing.T) {
	id := func(l int) []float32 { return []float32{float32(l), 1} }
	labels := make([]int, 16)
	labels[5] = 1 // one rare patch per image
	s := &features.Set{Data: "t", Classes: []string{"bg", "rare"}, C: 2}
	for i := range 20 {
		s.Images = append(s.Images, blockImage(string(rune('a'+i)), 4, 4, 1, labels, id))
	}
	a, err := NewBank(s, 41, 9)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewBank(s, 41, 9)
	if a.Len() != 40 {
		t.Fatalf("bank of %d patches for size 41 over 20 images, want 2 per image", a.Len())
	}
	if !slices.Equal(a.Keys, b.Keys) || !slices.Equal(a.Values, b.Values) {
		t.Error("the same seed drew different patches")
	}
	rare := 0
	for i := range a.Len() {
		rare += int(a.Values[i*2+1])
	}
	// The rare patch scores 1·U against 15·U for each background one: it is left out only
	// when two of fifteen background draws fall below a fifteenth of its own (≈ 10 %), where
	// a uniform choice would keep it 2 times in 16.
	if rare < 15 {
		t.Errorf("%d of 20 images put their rare patch in the bank; Hummingbird's sampling keeps it ≈ 90 %% of the time", rare)
	}
	if _, err := NewBank(s, 19, 9); err == nil {
		t.Error("a bank smaller than one patch per image was accepted")
	}
}

// Features that are the labels retrieve them: 100 % mIoU; the context's cancellation stops it.
func TestOneHotFeaturesRetrievePerfectly(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	oneHot := func(l int) []float32 { v := make([]float32, 3); v[l] = 1; return v }
	set := func(n int) *features.Set {
		s := &features.Set{Data: "t", Classes: []string{"a", "b", "c"}, C: 3}
		for i := range n {
			labels := make([]int, 20)
			for q := range labels {
				labels[q] = rng.IntN(3)
			}
			s.Images = append(s.Images, blockImage(string(rune('a'+i)), 4, 5, 1, labels, oneHot))
		}
		return s
	}
	bank, err := NewBank(set(4), -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := Score(context.Background(), bank, set(2), DefaultK, DefaultTemperature)
	if err != nil {
		t.Fatal(err)
	}
	if s := conf.Scores(); s.MIoU != 1 {
		t.Errorf("mIoU %v with one-hot features, want 1", s.MIoU)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Score(ctx, bank, set(1), DefaultK, DefaultTemperature); err == nil {
		t.Error("a cancelled context did not stop Score")
	}
}

// Score searches all val images' patches at once; its confusion matrix is the one of
// PredictImage image by image, for one CPU or two.
func TestScoreEqualsImageByImage(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	noisy := func(l int) []float32 {
		return []float32{float32(l) + float32(rng.NormFloat64()), float32(rng.NormFloat64()), float32(rng.NormFloat64())}
	}
	set := func(n int) *features.Set {
		s := &features.Set{Data: "t", Classes: []string{"a", "b", "c"}, C: 3}
		for i := range n {
			labels := make([]int, 12)
			for q := range labels {
				labels[q] = rng.IntN(3)
			}
			s.Images = append(s.Images, blockImage(string(rune('a'+i)), 3, 4, 3, labels, noisy))
		}
		return s
	}
	bank, err := NewBank(set(10), -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	val := set(9) // 108 queries: two pieces
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		conf, err := Score(context.Background(), bank, val, 5, DefaultTemperature)
		runtime.GOMAXPROCS(prev)
		if err != nil {
			t.Fatal(err)
		}
		want := make([]int64, 9)
		for i := range val.Images {
			pred, err := PredictImage(bank, &val.Images[i], 5, DefaultTemperature)
			if err != nil {
				t.Fatal(err)
			}
			for p, l := range val.Images[i].Mask.Pix {
				if l < 3 {
					want[int(l)*3+int(pred[p])]++
				}
			}
		}
		if !slices.Equal(conf.Counts, want) {
			t.Errorf("GOMAXPROCS %d: Score counts %v, image by image %v", procs, conf.Counts, want)
		}
	}
}
