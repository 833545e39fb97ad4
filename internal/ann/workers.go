package ann

import (
	"runtime"
	"sync/atomic"
	"time"
)

// spinFor is how long an idle helper of a workerPool polls for the next
// piece of work before it parks. Waking a parked goroutine on an idle core
// took about 120 µs on the 2-core VM this was measured on (the core halts
// and the hypervisor must wake it): a fifth of a LeNet batch of 64 images
// on two cores. The CLI's eval decodes the next batch in well under this,
// so a helper that polls that long is awake when the next Forward comes;
// onnxruntime's thread pool spins for the same reason.
const spinFor = 500 * time.Microsecond

// workerPool is the goroutines that run all but one piece of each Forward
// (the calling goroutine runs the last). They hold no reference to the
// Executor, so an unreachable Executor's cleanup can stop them.
type workerPool struct {
	jobs chan func()
	live atomic.Int32 // helpers running (for tests: stop ends them)
}

// newWorkerPool starts k helpers.
func newWorkerPool(k int) *workerPool {
	p := &workerPool{jobs: make(chan func(), k)}
	p.live.Add(int32(k))
	for range k {
		go p.help()
	}
	return p
}

// help runs jobs until the pool is stopped, polling for spinFor after each
// before it parks on the channel.
func (p *workerPool) help() {
	defer p.live.Add(-1)
	for {
		idle := time.Now()
		for time.Since(idle) < spinFor {
			select {
			case f, ok := <-p.jobs:
				if !ok {
					return
				}
				f()
				idle = time.Now()
			default:
				runtime.Gosched()
			}
		}
		f, ok := <-p.jobs
		if !ok {
			return
		}
		f()
	}
}

// stop ends the helpers once they have run the jobs already queued.
func (p *workerPool) stop() { close(p.jobs) }

// waitPending polls until *n is zero: the helpers' pieces of one Forward
// are due within the time the calling goroutine's own piece took, so
// parking (and the wake-up that costs) is rarely worth it; after spinFor
// it yields between polls instead.
func waitPending(n *atomic.Int64) {
	start := time.Now()
	for n.Load() > 0 {
		if time.Since(start) > spinFor {
			time.Sleep(20 * time.Microsecond)
		} else {
			runtime.Gosched()
		}
	}
}
