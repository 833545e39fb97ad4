package ann

import (
	"time"

	"github.com/ann2snn/ann2snn/internal/cputime"
)

// threadNanos returns the CPU time of the calling OS thread in nanoseconds
// (the caller locks its goroutine to the thread), so that per-layer figures
// are not skewed by other jobs on a busy machine; wall time where the
// platform has no thread clock.
func threadNanos() int64 {
	if d, ok := cputime.Thread(); ok {
		return int64(d)
	}
	return time.Now().UnixNano()
}
