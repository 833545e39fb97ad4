package cputime

import (
	"runtime"
	"testing"
	"time"
)

// spin burns CPU on the calling thread for about d of wall time.
func spin(d time.Duration) (x float64) {
	for start := time.Now(); time.Since(start) < d; {
		for i := range 1000 {
			x += float64(i) * 1e-9
		}
	}
	return x
}

// TestCPUTimeAdvances checks that both clocks advance while the thread
// computes and do not advance while it sleeps (beyond scheduler noise).
func TestCPUTimeAdvances(t *testing.T) {
	for _, tc := range []struct {
		name  string
		clock func() (time.Duration, bool)
	}{{"Process", Process}, {"Thread", Thread}} {
		t.Run(tc.name, func(t *testing.T) {
			// A subtest runs on its own goroutine: lock that one to its
			// thread, or the thread clock reads other threads.
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			t0, ok := tc.clock()
			if !ok {
				t.Skipf("%s CPU time is not available on %s", tc.name, runtime.GOOS)
			}
			_ = spin(50 * time.Millisecond)
			t1, _ := tc.clock()
			if t1 <= t0 {
				t.Errorf("%s: no CPU time counted over 50 ms of computing (%v -> %v)", tc.name, t0, t1)
			}
			if tc.name == "Thread" {
				time.Sleep(100 * time.Millisecond)
				t2, _ := tc.clock()
				if t2-t1 > 50*time.Millisecond {
					t.Errorf("Thread: %v counted while the thread slept 100 ms", t2-t1)
				}
			}
		})
	}
}
