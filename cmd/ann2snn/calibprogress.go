package main

import (
	"fmt"
	"io"
	"sync"

	"github.com/ann2snn/ann2snn/calibrate"
	"github.com/ann2snn/ann2snn/internal/progress"
)

// progressImages passes calibration images through and draws a progress
// bar on w while convert reads them: one bar per pass over the images
// (activation statistics, threshold search, bias correction each read
// them again). The bar is drawn only on a terminal outside CI
// (progress.New).
type progressImages struct {
	calibrate.Images
	w io.Writer

	mu   sync.Mutex // Read may be called from several goroutines
	pass int
	next int // the start that continues the current pass
	bar  *progress.Bar
}

// withProgress returns images that report their reads on w.
func withProgress(images calibrate.Images, w io.Writer) *progressImages {
	return &progressImages{Images: images, w: w}
}

// Read reads images start, …, start+n−1 and advances the bar; a read
// that does not continue the current pass starts a new one.
func (p *progressImages) Read(dst []float32, start, n int) error {
	if err := p.Images.Read(dst, start, n); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil || (start == 0 && p.next > 0) {
		if p.bar != nil {
			p.bar.Done()
		}
		p.pass++
		p.bar = progress.New(p.w, fmt.Sprintf("calibrating (pass %d)", p.pass), p.Len())
		p.next = 0
	}
	p.next = max(p.next, start+n)
	p.bar.Add(n)
	return nil
}

// done finishes the last bar's line.
func (p *progressImages) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Done()
		p.bar = nil
	}
}
