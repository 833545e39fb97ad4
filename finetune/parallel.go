package finetune

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// reduceShards is the number of partial sums a parallel reduction over
// images keeps. It is a constant, not GOMAXPROCS, so that the summation
// order, and hence every result, is the same on every machine.
const reduceShards = 8

// forShards splits [0, n) into min(n, shards) contiguous ranges, shard s
// covering [s·n/S, (s+1)·n/S), and calls f(s, lo, hi) for each on up to
// GOMAXPROCS goroutines. The partition depends only on n and shards.
func forShards(n, shards int, f func(s, lo, hi int)) {
	s := min(n, shards)
	if s <= 0 {
		return
	}
	workers := min(s, runtime.GOMAXPROCS(0))
	if workers == 1 {
		for i := 0; i < s; i++ {
			f(i, i*n/s, (i+1)*n/s)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= s {
					return
				}
				f(i, i*n/s, (i+1)*n/s)
			}
		}()
	}
	wg.Wait()
}

// forEach splits [0, n) into ranges and calls f(lo, hi) for each, in
// parallel; for work whose result does not depend on the partition.
func forEach(n int, f func(lo, hi int)) {
	forShards(n, 4*runtime.GOMAXPROCS(0), func(_, lo, hi int) { f(lo, hi) })
}

// sumPartials adds the shard partial sums parts[0], parts[1], ... to dst in
// shard order.
// The sum runs in float64.
func sumPartials(dst []float32, parts [][]float32) {
	for j := range dst {
		var s float64
		for _, p := range parts {
			if p != nil {
				s += float64(p[j])
			}
		}
		dst[j] += float32(s)
	}
}

// pool recycles scratch buffers between calls of a kernel (several
// goroutines may take buffers at once). Buffers are not cleared.
type pool struct {
	mu   sync.Mutex
	free [][]float32
}

// get returns a buffer of length n.
func (p *pool) get(n int) []float32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, b := range p.free {
		if cap(b) >= n {
			p.free = append(p.free[:i], p.free[i+1:]...)
			return b[:n]
		}
	}
	return make([]float32, n)
}

// put returns b to the pool.
func (p *pool) put(b []float32) {
	p.mu.Lock()
	p.free = append(p.free, b)
	p.mu.Unlock()
}
