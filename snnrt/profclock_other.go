//go:build !linux

package snnrt

import "time"

// profClock reads the clock that Config.Profile measures layers with: wall
// time where thread CPU time is not available.
func profClock() time.Duration { return time.Duration(time.Now().UnixNano()) }

func profLock()   {}
func profUnlock() {}
