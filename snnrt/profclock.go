package snnrt

import (
	"runtime"
	"time"

	"github.com/ann2snn/ann2snn/internal/cputime"
)

// profClock reads the clock that Config.Profile measures layers with: the
// CPU time of the calling thread, so that the profile is not skewed by other
// processes on a busy machine (wall time where the platform has no thread
// clock). Workers lock their goroutine to a thread while profiling.
func profClock() time.Duration {
	if d, ok := cputime.Thread(); ok {
		return d
	}
	return time.Duration(time.Now().UnixNano())
}

// profLock pins the calling goroutine to its thread for profClock.
func profLock() { runtime.LockOSThread() }

// profUnlock undoes profLock.
func profUnlock() { runtime.UnlockOSThread() }
