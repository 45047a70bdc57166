//go:build !cgo

package driver

// Without cgo there is no dlopen: Probe says so (load stays nil).
