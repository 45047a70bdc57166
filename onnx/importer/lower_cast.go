package importer

// lowerCast: on a run-time tensor only float-to-float casts are meaningful in training
// (the graph computes in one float type), and they are the identity.
func lowerCast(c *nodeCtx, in []value) ([]value, error) {
	to, err := castTarget(c)
	if err != nil {
		return nil, err
	}
	if !isFloatType(to) {
		return nil, c.unsupported("a cast of a run-time tensor to "+to.String(),
			"only float-to-float casts of computed tensors are supported (they are the identity in training)")
	}
	return []value{in[0]}, nil
}
