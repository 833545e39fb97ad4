//go:build !unix

package cputime

import "time"

// Process reports ok == false: the process CPU time is not read on this
// platform.
func Process() (d time.Duration, ok bool) { return 0, false }
