package calibrate

import (
	"fmt"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/ann"
)

// Sample holds the activations of one ANN value over the calibration
// images, split by channel: Positive[c] has every positive value of channel
// c, Count[c] the number of values (zeros and negatives included).
// Vectors ([N,F]) have one channel per feature.
type Sample struct {
	Positive [][]float32
	Count    []int
}

// Channels returns the number of channels.
func (s *Sample) Channels() int { return len(s.Count) }

// Collect runs the n images x through ex, batch images at a time, and
// samples the values named in names.
func Collect(ex *ann.Executor, x []float32, n, batch int, names []string) (map[string]*Sample, error) {
	per := importer.NumElements(ex.InputShape())
	if len(x) != n*per {
		return nil, fmt.Errorf("calibrate: %d values for %d images of shape %v", len(x), n, ex.InputShape())
	}
	out := make(map[string]*Sample, len(names))
	for start := 0; start < n; start += batch {
		k := min(batch, n-start)
		_, kept, err := ex.Forward(x[start*per:(start+k)*per], k, names)
		if err != nil {
			return nil, err
		}
		for _, name := range names {
			t := kept[name]
			s := out[name]
			if s == nil {
				c := 1
				if len(t.Shape) > 1 {
					c = t.Shape[1]
				}
				s = &Sample{Positive: make([][]float32, c), Count: make([]int, c)}
				out[name] = s
			}
			s.add(t)
		}
	}
	return out, nil
}

func (s *Sample) add(t *importer.Tensor) {
	c := len(s.Count)
	inner := 1
	for _, d := range t.Shape[2:] {
		inner *= d
	}
	for i := 0; i < t.Shape[0]; i++ {
		for ch := range c {
			vals := t.Data[(i*c+ch)*inner : (i*c+ch+1)*inner]
			s.Count[ch] += len(vals)
			for _, v := range vals {
				if v > 0 {
					s.Positive[ch] = append(s.Positive[ch], v)
				}
			}
		}
	}
}

// Threshold returns θ for the sample: one value (perChannel false) from all
// channels pooled, or one per channel. A channel without positive values
// gets the layer-wide threshold; a layer without any gets 1.
func (s *Sample) Threshold(norm Norm, perChannel bool) []float32 {
	var all []float32
	for _, p := range s.Positive {
		all = append(all, p...)
	}
	layer := norm.Threshold(all)
	if layer <= 0 {
		layer = 1
	}
	if !perChannel {
		return []float32{layer}
	}
	th := make([]float32, len(s.Positive))
	for c, p := range s.Positive {
		th[c] = norm.Threshold(append([]float32(nil), p...))
		if th[c] <= 0 {
			th[c] = layer
		}
	}
	return th
}
