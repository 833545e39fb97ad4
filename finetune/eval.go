package finetune

import (
	"context"
	"fmt"

	"github.com/ann2snn/ann2snn/dataset"
	"github.com/ann2snn/ann2snn/snnrt"
)

// Evaluate returns the accuracy of m after T steps (snnrt.Run, direct
// encoding: the reference simulator, as "ann2snn eval" uses) on the first
// limit images of ds (all if limit ≤ 0), in batches of batch images.
func Evaluate(ctx context.Context, m *snnrt.Model, ds *dataset.Dataset, pre dataset.Preprocess, T, batch, limit int) (float64, error) {
	if limit <= 0 || limit > ds.Len() {
		limit = ds.Len()
	}
	if limit == 0 {
		return 0, fmt.Errorf("finetune: Evaluate: no images")
	}
	batch = max(1, min(batch, limit)) // buffers sized by the images, not the flag
	per := m.Input.Len()
	x := make([]float32, batch*per)
	correct := 0
	for start := 0; start < limit; start += batch {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		n := min(batch, limit-start)
		xs, err := ds.Batch(x, start, n, pre)
		if err != nil {
			return 0, err
		}
		r, err := snnrt.Run(m, xs, n, snnrt.Config{T: T})
		if err != nil {
			return 0, err
		}
		for j, p := range r.Predictions(T) {
			if p == ds.Label(start+j) {
				correct++
			}
		}
	}
	return float64(correct) / float64(limit), nil
}
