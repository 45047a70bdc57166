//go:build !cgo

// Package cublas needs cgo (dlopen); without it there is nothing to load.
package cublas
