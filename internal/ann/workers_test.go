package ann

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ann2snn/ann2snn/importer"
)

// TestWorkerPool checks that a pool runs every job exactly once when
// several callers submit at once, with the helpers both polling and
// parked (a pause longer than spinFor between rounds), and that stop ends
// them.
func TestWorkerPool(t *testing.T) {
	p := newWorkerPool(2)
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
	for deadline := time.Now().Add(5 * time.Second); p.live.Load() > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d helpers still running after stop", p.live.Load())
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
	e, err := New(loadLeNet(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Run(randInput(e, 5), 5); err != nil {
		t.Fatal(err)
	}
	p := e.helpers
	if p == nil || p.live.Load() != 2 {
		t.Fatalf("helpers %v, want 2 running", p)
	}
	e = nil
	for deadline := time.Now().Add(5 * time.Second); p.live.Load() > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d helpers still running after the executor was collected", p.live.Load())
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}

// TestForwardKeepNonBatch checks Forward's kept values on a graph with
// values that have no batch dimension: y = Reshape(x, Concat(Shape(x)[0:1],
// [-1])) keeps a scalar-free shape chain (Shape → Slice → Concat) beside
// the batch values. With one worker every value comes back as computed;
// with several, batch values are stacked, the constant and the
// batch-independent slice as they are, and keeping the Shape of the input,
// whose first element would be each chunk's image count, runs the batch on
// one worker so that it is the whole batch's.
func TestForwardKeepNonBatch(t *testing.T) {
	i64 := func(v ...float32) *importer.Tensor {
		t := importer.NewTensor(len(v))
		copy(t.Data, v)
		return t
	}
	g := &importer.Graph{
		Inputs:  []importer.Value{{Name: "x", Shape: []int{-1, 2, 3}}},
		Outputs: []string{"y"},
		Opset:   13,
		Consts:  map[string]*importer.Tensor{"s0": i64(1), "s1": i64(3), "m1": i64(-1)},
		Nodes: []*importer.Node{
			{Name: "shape", Op: "Shape", Inputs: []string{"x"}, Outputs: []string{"sh"}},
			{Name: "tail", Op: "Slice", Inputs: []string{"sh", "s0", "s1"}, Outputs: []string{"hw"}},
			{Name: "relu", Op: "Relu", Inputs: []string{"x"}, Outputs: []string{"r"}},
			{Name: "flat", Op: "Flatten", Inputs: []string{"r"}, Outputs: []string{"y"}},
		},
	}
	for _, w := range []int{1, 2} {
		e, err := New(g)
		if err != nil {
			t.Fatal(err)
		}
		e.workers = w
		if e.helpers == nil && w > 1 {
			e.helpers = newWorkerPool(w - 1)
		}
		const n = 4
		x := randInput(e, n)
		_, kept, err := e.Forward(x, n, []string{"r", "hw", "m1"})
		if err != nil {
			t.Fatalf("%d workers: %v", w, err)
		}
		if got := kept["r"].Shape; !slices.Equal(got, []int{n, 2, 3}) {
			t.Errorf("%d workers: r has shape %v, want [%d 2 3]", w, got, n)
		}
		if got := kept["hw"].Floats(); !slices.Equal(got, []float32{2, 3}) {
			t.Errorf("%d workers: hw = %v, want [2 3]", w, got)
		}
		if got := kept["m1"].Floats(); !slices.Equal(got, []float32{-1}) {
			t.Errorf("%d workers: m1 = %v, want [-1]", w, got)
		}
		_, kept, err = e.Forward(x, n, []string{"sh", "r"})
		if err != nil {
			t.Fatalf("%d workers: %v", w, err)
		}
		if got := kept["sh"].Floats(); !slices.Equal(got, []float32{n, 2, 3}) {
			t.Errorf("%d workers: the input's Shape = %v, want [%d 2 3]", w, got, n)
		}
		if got := kept["r"].Shape; !slices.Equal(got, []int{n, 2, 3}) {
			t.Errorf("%d workers: r beside the Shape has shape %v, want [%d 2 3]", w, got, n)
		}
	}
}
