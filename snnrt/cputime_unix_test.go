//go:build unix

package snnrt

import "syscall"

// cpuSeconds returns the CPU time used by the process so far, or 0 when it
// is unknown. Benchmarks report CPU time per op as well as wall time,
// because wall time is skewed on a busy shared machine.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
