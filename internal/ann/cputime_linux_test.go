//go:build linux

package ann

import "golang.org/x/sys/unix"

// threadNanos returns the CPU time of the calling OS thread in nanoseconds
// (the caller locks its goroutine to the thread), so that per-layer figures
// are not skewed by other jobs on a busy machine.
func threadNanos() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return 0
	}
	return ts.Nano()
}
