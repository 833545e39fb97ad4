package main

import (
	"fmt"
	"io"
	"math"
	"syscall"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/snnrt"
)

// maxTimesteps bounds --timesteps in every command (convert, eval, bench,
// finetune): one limit, checked by checkTimesteps. Rate codes converge
// long before it; the simulators keep per-step results, so T also sizes
// memory.
const maxTimesteps = 1 << 14

// checkTimesteps returns a usage error unless 1 ≤ t ≤ maxTimesteps.
func checkTimesteps(t int) error {
	if t < 1 || t > maxTimesteps {
		return &usageError{fmt.Sprintf("--timesteps %d: want 1..%d", t, maxTimesteps)}
	}
	return nil
}

// checkFloatFlag returns a usage error unless v is finite and lo ≤ v < hi
// (hi is +Inf for no upper bound; the bound is then inclusive of nothing
// but finite values).
func checkFloatFlag(name string, v, lo, hi float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v >= hi {
		if math.IsInf(hi, 1) {
			return &usageError{fmt.Sprintf("--%s %v: want a finite number ≥ %v", name, v, lo)}
		}
		return &usageError{fmt.Sprintf("--%s %v: want a number in [%v, %v)", name, v, lo, hi)}
	}
	return nil
}

// memoryBudget returns the simulators' memory budget (snnrt.Config.
// MaxBytes): half the process's address-space limit (ulimit -v, prlimit
// --as) when one is set, so that a limited process refuses or shrinks its
// chunks instead of crashing; else 0, snnrt.DefaultMaxBytes.
func memoryBudget() int64 {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err != nil || rl.Cur == math.MaxUint64 || rl.Cur == 0 {
		return 0
	}
	return min(int64(rl.Cur/2), snnrt.DefaultMaxBytes)
}

// checkLabels returns an input error naming the first image of ds whose
// label is not a class of a model with the given number of outputs.
func checkLabels(ds *dataset.Dataset, classes int, model string) error {
	if !ds.Labeled() || ds.NumClasses() <= classes {
		return nil
	}
	for i := range ds.Len() {
		if l := ds.Label(i); l >= classes {
			return badInput(fmt.Errorf("image %d has label %d, but %s has %d classes (0..%d): is this the data set the model was made for?", i, l, model, classes, classes-1))
		}
	}
	return nil
}

// errWriter passes writes to w and keeps the first error, so that a
// command whose stdout fails (a full disk, a closed pipe) can exit
// non-zero although its table printing ignores write errors.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err != nil {
		e.err = err
	}
	return n, err
}
