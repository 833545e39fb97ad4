//go:build !linux

package ann

import "time"

// threadNanos returns wall time in nanoseconds where thread CPU time is not
// available.
func threadNanos() int64 { return time.Now().UnixNano() }
