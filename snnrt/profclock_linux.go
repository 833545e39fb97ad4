//go:build linux

package snnrt

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// profClock reads the clock that Config.Profile measures layers with: the
// CPU time of the calling thread, so that the profile is not skewed by other
// processes on a busy machine. Workers lock their goroutine to a thread
// while profiling.
func profClock() time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts) != nil {
		return time.Duration(time.Now().UnixNano())
	}
	return time.Duration(ts.Nano())
}

// profLock pins the calling goroutine to its thread for profClock.
func profLock() { runtime.LockOSThread() }

// profUnlock undoes profLock.
func profUnlock() { runtime.UnlockOSThread() }
