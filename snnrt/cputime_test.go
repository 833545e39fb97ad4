package snnrt

import "github.com/ann2snn/ann2snn/internal/cputime"

// cpuSeconds returns the CPU time used by the process so far, or 0 when it
// is unknown. Benchmarks report CPU time per op as well as wall time,
// because wall time is skewed on a busy shared machine.
func cpuSeconds() float64 {
	d, _ := cputime.Process()
	return d.Seconds()
}
