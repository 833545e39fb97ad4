package ann

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestWorkerPool checks that a pool runs every job exactly once when
// several callers submit at once, with the helpers both polling and
// parked (a pause longer than spinFor between rounds), and that stop ends
// them.
func TestWorkerPool(t *testing.T) {
	p := newWorkerPool(2)
	before := runtime.NumGoroutine()
	const callers, rounds, jobs = 3, 4, 50
	var ran [callers * rounds * jobs]atomic.Int32
	for r := range rounds {
		var wg sync.WaitGroup
		for c := range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var pending atomic.Int64
				pending.Store(jobs)
				for j := range jobs {
					p.jobs <- func() {
						ran[(r*callers+c)*jobs+j].Add(1)
						pending.Add(-1)
					}
				}
				waitPending(&pending)
			}()
		}
		wg.Wait()
		time.Sleep(2 * spinFor) // the helpers park
	}
	for i := range ran {
		if n := ran[i].Load(); n != 1 {
			t.Fatalf("job %d ran %d times", i, n)
		}
	}
	p.stop()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before-2; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after stop, %d before: the helpers did not end", runtime.NumGoroutine(), before)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestForwardWorkers checks that the executor's outputs do not depend on
// its number of workers (how the batch is cut between the helpers and the
// calling goroutine), bit for bit, on LeNet and vgg_small with Winograd.
func TestForwardWorkers(t *testing.T) {
	for _, tc := range []struct {
		name string
		wino bool
	}{{"lenet_mnist", false}, {"vgg_small_cifar10_relu", true}} {
		t.Run(tc.name, func(t *testing.T) {
			g := loadLeNet(t)
			if tc.name != "lenet_mnist" {
				g = sharedGraph(t, tc.name+".onnx")
			}
			var want []float32
			for _, w := range []int{1, 2, 3, 7} {
				e, err := New(g)
				if err != nil {
					t.Fatal(err)
				}
				if tc.wino {
					e.EnableWinograd()
				}
				// More pieces than helpers is fine: a piece waits in
				// the pool's queue until a helper is free.
				e.workers = w
				if e.helpers == nil && w > 1 {
					e.helpers = newWorkerPool(w - 1)
				}
				const n = 13
				got, err := e.Run(randInput(e, n), n)
				if err != nil {
					t.Fatal(err)
				}
				if want == nil {
					want = got
					continue
				}
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%d workers: output %d = %v, one worker %v", w, i, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestExecutorHelpersEnd checks that an executor's helpers end once the
// executor is garbage collected (its cleanup stops the pool).
func TestExecutorHelpersEnd(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	g := loadLeNet(t)
	before := runtime.NumGoroutine()
	e, err := New(g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(randInput(e, 5), 5); err != nil {
		t.Fatal(err)
	}
	if got := runtime.NumGoroutine(); got != before+2 {
		t.Fatalf("%d goroutines with the executor, %d before: want 2 helpers", got, before)
	}
	e = nil
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after the executor was collected, %d before", runtime.NumGoroutine(), before)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
