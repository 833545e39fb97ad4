package calibrate_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ann2snn/ann2snn/calibrate"
	"github.com/ann2snn/ann2snn/convert"
	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/sharedtest"
)

// BenchmarkConvertCancel reads vgg16h_cifar10_relu and CIFAR-10 from the
// shared directory (internal/sharedtest: $ANN2SNN_SHARED_DIR or ../shared
// beside the module root); it is skipped without them, and fails when CI
// is set.

// phaseImages reads the first n test images of ds; at read number at
// (counting from 1) it cancels after delay, from another goroutine, and
// records when.
type phaseImages struct {
	ds     *dataset.Dataset
	pre    dataset.Preprocess
	n      int
	at     int
	delay  time.Duration
	cancel context.CancelFunc

	mu       sync.Mutex
	reads    int
	cancelAt time.Time
}

func (p *phaseImages) Len() int { return p.n }

func (p *phaseImages) Read(dst []float32, start, n int) error {
	p.mu.Lock()
	p.reads++
	if p.reads == p.at {
		time.AfterFunc(p.delay, p.cancelNow)
	}
	p.mu.Unlock()
	_, err := p.ds.Batch(dst, start, n, p.pre)
	return err
}

func (p *phaseImages) cancelNow() {
	p.mu.Lock()
	if p.cancelAt.IsZero() {
		p.cancelAt = time.Now()
	}
	p.mu.Unlock()
	p.cancel()
}

// BenchmarkConvertCancel measures how long convert.ConvertImages takes to
// return after its context is cancelled in each phase of a conversion of
// VGG-16 on CIFAR-10 with joint bias correction (1024 calibration images
// in batches of 64: reads 1-16 are the calibration, 17-20 the ANN means,
// 21-24 the SNN simulation of the bias correction), and reports the
// largest latency over b.N runs as max-ms. The threshold search has no
// hook to cancel from inside it here (a wrapping Norm would not be the
// cancellable MSEOptimal); TestMinErrorSearchCancel checks it, and
// calibrate/testdata/sigint_convert.py times it in the CLI.
func BenchmarkConvertCancel(b *testing.B) {
	raw, err := os.ReadFile(sharedtest.Path(b, "models", "vgg16h_cifar10_relu.onnx"))
	if err != nil {
		b.Skip(err)
	}
	g, err := importer.Parse(raw, "")
	if err != nil {
		b.Fatal(err)
	}
	ds, err := dataset.Open("cifar10:"+sharedtest.Path(b, "datasets", "cifar10"), dataset.Test)
	if err != nil {
		b.Skip(err)
	}
	pre := dataset.Preprocess{Scale: 1.0 / 255, Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}}
	phases := []struct {
		name  string
		at    int // read at which to cancel
		delay time.Duration
	}{
		{"calibration", 8, 150 * time.Millisecond},
		{"bias-ANN-means", 18, 100 * time.Millisecond},
		{"bias-SNN", 22, 150 * time.Millisecond},
	}
	for _, ph := range phases {
		b.Run(ph.name, func(b *testing.B) {
			var worst time.Duration
			for b.Loop() {
				ctx, cancel := context.WithCancel(b.Context())
				img := &phaseImages{ds: ds, pre: pre, n: 1024, at: ph.at, delay: ph.delay, cancel: cancel}
				opt := convert.Options{Bias: convert.BiasJoint, Norm: calibrate.MSEOptimal{T: 16}}
				_, err := convert.ConvertImages(ctx, g, img, opt)
				done := time.Now()
				cancel()
				if !errors.Is(err, context.Canceled) {
					b.Fatalf("error %v, want context.Canceled", err)
				}
				img.mu.Lock()
				worst = max(worst, done.Sub(img.cancelAt))
				img.mu.Unlock()
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "max-ms")
		})
	}
}
