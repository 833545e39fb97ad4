//go:build !linux

package cputime

import "time"

// Thread reports ok == false: the thread CPU time is read on Linux only.
func Thread() (d time.Duration, ok bool) { return 0, false }
