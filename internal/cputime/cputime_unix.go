//go:build unix

package cputime

import (
	"syscall"
	"time"
)

// Process returns the user plus system CPU time used by the process so far.
func Process() (d time.Duration, ok bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
