package importer

import (
	G "gorgonia.org/gorgonia"

	"github.com/ssl4dp/ssl4dp/ops"
)

// binaryOps are the broadcasting arithmetic ops of ops/ (numpy broadcasting; gradients
// reduced back to each operand's shape).
var binaryOps = map[string]func(a, b *G.Node) (*G.Node, error){
	"Add": ops.Add, "Sub": ops.Sub, "Mul": ops.Mul, "Div": ops.Div,
}

// lowerBinary: Add/Sub/Mul/Div where at least one operand is computed at run time; an
// import-time constant operand becomes a constant node.
func lowerBinary(c *nodeCtx, in []value) ([]value, error) {
	a, err := c.nodeOf(in, 0)
	if err != nil {
		return nil, err
	}
	b, err := c.nodeOf(in, 1)
	if err != nil {
		return nil, err
	}
	y, err := binaryOps[c.n.GetOpType()](a, b)
	return one(y, c.wrap(err))
}
