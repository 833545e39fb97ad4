//go:build !unix

package kernels

// cpuSeconds returns 0: CPU time is not measured on this platform.
func cpuSeconds() float64 { return 0 }
