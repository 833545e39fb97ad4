//go:build !unix

package snnrt

func cpuSeconds() float64 { return 0 }
