package export

import (
	"fmt"
	"math"
	"strings"

	"github.com/ssl4dp/ssl4dp/onnx"
	pb "github.com/ssl4dp/ssl4dp/onnx/onnxpb"
)

// foldBatchNorm folds every inference-form BatchNormalization that reads a Conv's output,
// which nothing else reads, into that Conv. With s = γ / √(σ² + ε) per output channel c:
//
//	W'[c, …] = W[c, …] · s[c]
//	b'[c]    = (b[c] − μ[c]) · s[c] + β[c]      (b = 0 for a Conv without bias)
//
// so that Conv'(x) = γ·(Conv(x) − μ)/√(σ² + ε) + β, BatchNormalization's inference formula.
// The arithmetic is float64, rounded once to float32. It returns the number of folded nodes
// and the names of those it had to keep (a BatchNorm after something other than a Conv, or
// whose values are not initializers).
func foldBatchNorm(g *pb.GraphProto) (folded int, kept []string, err error) {
	producer := map[string]*pb.NodeProto{}
	readers := map[string]int{}
	for _, n := range g.Node {
		for _, o := range n.Output {
			producer[o] = n
		}
		for _, in := range nodeReads(n) {
			readers[in]++
		}
	}
	for _, o := range g.Output {
		readers[o.GetName()]++ // a graph output must stay as it is
	}
	inits := onnx.Initializers(g)
	names := map[string]bool{}
	for _, n := range g.Node {
		for _, s := range append(append([]string{n.GetName()}, n.Input...), n.Output...) {
			names[s] = true
		}
	}
	for name := range inits {
		names[name] = true
	}

	remove := map[*pb.NodeProto]bool{}
	for _, bn := range g.Node {
		if bn.GetOpType() != "BatchNormalization" {
			continue
		}
		conv := producer[bn.Input[0]]
		if conv == nil || conv.GetOpType() != "Conv" || readers[bn.Input[0]] != 1 || len(bn.Output) != 1 || len(bn.Input) != 5 {
			kept = append(kept, bn.GetName())
			continue
		}
		ok, err := foldInto(g, conv, bn, inits, readers, names)
		if err != nil {
			return 0, nil, err
		}
		if !ok {
			kept = append(kept, bn.GetName())
			continue
		}
		conv.Output[0] = bn.Output[0]
		remove[bn] = true
		folded++
	}
	nodes := g.Node[:0:0]
	for _, n := range g.Node {
		if !remove[n] {
			nodes = append(nodes, n)
		}
	}
	g.Node = nodes
	dropUnusedInitializers(g)
	return folded, kept, nil
}

// foldInto replaces conv's weight and bias by the folded ones; false when a value is not
// a float initializer of the expected shape (the BatchNorm then stays).
func foldInto(g *pb.GraphProto, conv, bn *pb.NodeProto, inits map[string]*pb.TensorProto, readers map[string]int, names map[string]bool) (bool, error) {
	floats := func(name string) ([]float64, []int, bool) {
		t := inits[name]
		if t == nil {
			return nil, nil, false
		}
		switch pb.TensorProto_DataType(t.GetDataType()) {
		case pb.TensorProto_FLOAT, pb.TensorProto_DOUBLE:
		default:
			return nil, nil, false
		}
		v, err := onnx.Floats(t)
		if err != nil {
			return nil, nil, false
		}
		f := make([]float64, len(v))
		for i, x := range v {
			f[i] = float64(x)
		}
		return f, onnx.Shape(t), true
	}
	w, wShape, ok := floats(conv.Input[1])
	if !ok || len(wShape) < 3 {
		return false, nil
	}
	m := wShape[0]
	var p [4][]float64 // γ, β, μ, σ²
	for i := range p {
		v, shape, ok := floats(bn.Input[i+1])
		if !ok || len(v) != m || len(shape) != 1 {
			return false, nil
		}
		p[i] = v
	}
	bias := make([]float64, m)
	hasBias := len(conv.Input) > 2 && conv.Input[2] != ""
	if hasBias {
		b, _, ok := floats(conv.Input[2])
		if !ok || len(b) != m {
			return false, nil
		}
		bias = b
	}
	eps := float64(onnx.AttrFloat(bn, "epsilon", 1e-5))
	per := len(w) / m
	wf := make([]float32, len(w))
	bf := make([]float32, m)
	for c := 0; c < m; c++ {
		s := p[0][c] / math.Sqrt(p[3][c]+eps)
		for j := c * per; j < (c+1)*per; j++ {
			wf[j] = float32(w[j] * s)
		}
		bf[c] = float32((bias[c]-p[2][c])*s + p[1][c])
	}

	// Overwrite an initializer only this conv reads; give shared ones a new name.
	wName := conv.Input[1]
	if readers[wName] != 1 {
		wName = fresh(names, wName+".bnfold")
	}
	onnx.SetInitializer(g, onnx.FromFloats(wName, wShape, wf))
	conv.Input[1] = wName
	bName := ""
	if hasBias && readers[conv.Input[2]] == 1 {
		bName = conv.Input[2]
	} else {
		bName = fresh(names, strings.TrimSuffix(conv.Input[1], ".weight")+".bias")
	}
	onnx.SetInitializer(g, onnx.FromFloats(bName, []int{m}, bf))
	if len(conv.Input) < 3 {
		conv.Input = append(conv.Input, bName)
	} else {
		conv.Input[2] = bName
	}
	return true, nil
}

// fresh returns base, or base with a number appended, that is not in names, and claims it.
func fresh(names map[string]bool, base string) string {
	name := base
	for i := 1; names[name]; i++ {
		name = fmt.Sprintf("%s.%d", base, i)
	}
	names[name] = true
	return name
}
