//go:build purego

package blas

// Name says which BLAS this build uses; bench and train print it.
const Name = "gonum (pure Go)"
