package ann

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/kernels"
)

// BenchmarkLayers runs the plan of a shared model on one chunk of 64 images
// on the calling goroutine and logs, per step, its thread CPU time (so
// that the figures hold on a busy machine), the time share and, for
// prepared convolutions and Gemms, the GFLOP/s (2 flops per multiply-add
// of the direct method, so that Winograd's figures compare as speeds).
// Models where EnableWinograd switches convolutions run twice, exact and
// with Winograd (as the CLI's eval and bench run them). img/s is over
// wall time. Run with -v to see the table:
//
//	GOMAXPROCS=1 go test ./internal/ann -run X -bench Layers -benchtime 5x -v
func BenchmarkLayers(b *testing.B) {
	forEachPlan(b, []string{"vgg16h_cifar10_relu", "vgg16h_cifar10_qcfs", "resnet20_cifar10_qcfs", "vgg_small_cifar10_relu", "lenet_mnist"}, benchLayers)
}

// forEachPlan runs bench as a sub-benchmark on the shared model of each
// name, with the exact plan and, where EnableWinograd switches
// convolutions, with Winograd too (name/winograd).
func forEachPlan(b *testing.B, models []string, bench func(b *testing.B, e *Executor)) {
	for _, model := range models {
		for _, wino := range []bool{false, true} {
			e, err := New(sharedGraph(b, model+".onnx"))
			if err != nil {
				b.Fatal(err)
			}
			name := model
			if wino {
				if e.EnableWinograd() == 0 {
					continue
				}
				name += "/winograd"
			}
			b.Run(name, func(b *testing.B) { bench(b, e) })
		}
	}
}

// benchLayers is one BenchmarkLayers run of e.
func benchLayers(b *testing.B, e *Executor) {
	const n = 64
	x := randInput(e, n)
	prof := make([]int64, len(e.steps))
	out := make([]float32, n*importer.NumElements(e.outShape))
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if _, err := e.chunk(out, x, n, nil, nil, nil); err != nil { // warm-up
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := e.chunk(out, x, n, nil, prof, threadNanos); err != nil {
			b.Fatal(err)
		}
	}
	var total, convNs int64
	var flops float64
	for i, ns := range prof {
		total += ns
		if e.steps[i].conv != nil {
			convNs += ns
			flops += e.steps[i].flops
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
	b.ReportMetric(flops*float64(n*b.N)/float64(convNs), "conv-GFLOP/s")
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n| step | ops | kernel | CPU ms/64 img | share | GFLOP/s |\n|---|---|---|---|---|---|\n")
	for i, ns := range prof {
		s := &e.steps[i]
		per := float64(ns) / float64(b.N) / 1e6
		if per < 0.01*float64(total)/float64(b.N)/1e6 {
			continue // under 1 %
		}
		gf, kind := "", ""
		switch {
		case s.conv != nil:
			kind = "conv"
			if _, ok := s.conv.(*kernels.Winograd); ok {
				kind = "winograd"
			}
		case s.dense != nil:
			kind = "gemm"
		}
		if kind != "" {
			gf = fmt.Sprintf("%.1f", s.flops*n*float64(b.N)/float64(ns))
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %.2f | %.1f%% | %s |\n", s.layer, strings.Join(s.ops, "+"), kind, per, 100*float64(ns)/float64(total), gf)
	}
	fmt.Fprintf(&sb, "total %.1f ms per 64 images, convolutions %.1f%% at %.1f GFLOP/s\n",
		float64(total)/float64(b.N)/1e6, 100*float64(convNs)/float64(total), flops*n*float64(b.N)/float64(convNs))
	b.Log(sb.String())
}

// BenchmarkRun measures Executor.Run on batches of 64 images, split over
// GOMAXPROCS workers as the CLI's eval does, in wall-clock images/s; run
// at GOMAXPROCS 1 and 2 it shows the 2-core scaling of the executor alone
// (no data decoding):
//
//	for p in 1 2; do GOMAXPROCS=$p go test ./internal/ann -run X -bench Run/lenet; done
func BenchmarkRun(b *testing.B) {
	forEachPlan(b, []string{"lenet_mnist", "vgg_small_cifar10_relu", "vgg16h_cifar10_relu"}, func(b *testing.B, e *Executor) {
		const n = 64
		x := randInput(e, n)
		if _, err := e.Run(x, n); err != nil { // warm-up
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := e.Run(x, n); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
	})
}
