package calibrate

import (
	"context"
	"fmt"

	"github.com/ann2snn/ann2snn/importer"
	"github.com/ann2snn/ann2snn/internal/ann"
)

// Executor runs the ANN a converted SNN is calibrated against: the three
// methods Collect, ClippedMeans and CompareLayers call, with only public
// types in their signatures, so that a program outside this module can
// pass its own executor. The module's reference executor satisfies it;
// NewExecutor returns one.
type Executor interface {
	// Graph returns the graph the executor runs (Collect infers the shapes
	// of the kept values from it to size its batches).
	Graph() *importer.Graph
	// InputShape returns the per-image input shape, e.g. [3 32 32].
	InputShape() []int
	// Forward runs the graph on n images x (NCHW, len(x) == n times the
	// product of InputShape) and returns the output and the values named
	// in keep, each a tensor with the batch as its first dimension. Names
	// that are not values of the graph are an error.
	Forward(x []float32, n int, keep []string) ([]float32, map[string]*importer.Tensor, error)
}

var _ Executor = (*ann.Executor)(nil)

// NewExecutor returns the module's reference ANN executor for g (it
// computes every node with importer.Eval, on all cores, with results that
// do not depend on the number of cores or the batch size). g must have
// one input whose per-image shape is fixed and one output.
func NewExecutor(g *importer.Graph) (Executor, error) {
	ex, err := ann.New(g)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %w", err)
	}
	return ex, nil
}

// Images is a calibration set read batch by batch, so that no more than
// one batch of preprocessed images needs to be in memory.
type Images interface {
	// Len returns the number of images.
	Len() int
	// Read writes images start, …, start+n−1 (preprocessed, NCHW) into
	// dst, whose length is n times the per-image size.
	Read(dst []float32, start, n int) error
}

// Slice returns the n images held in x (NCHW) as Images.
func Slice(x []float32, n int) Images { return slice{x, n} }

type slice struct {
	x []float32
	n int
}

func (s slice) Len() int { return s.n }

func (s slice) Read(dst []float32, start, n int) error {
	if s.n <= 0 || len(s.x)%s.n != 0 {
		return fmt.Errorf("calibrate: %d values do not split into %d images", len(s.x), s.n)
	}
	per := len(s.x) / s.n
	if start < 0 || n < 0 || start+n > s.n || len(dst) != n*per {
		return fmt.Errorf("calibrate: read of images [%d, %d) into %d values: out of range of %d images of %d values", start, start+n, len(dst), s.n, per)
	}
	copy(dst, s.x[start*per:(start+n)*per])
	return nil
}

// Head returns the first k images of src (all if it has fewer).
func Head(src Images, k int) Images { return head{src, min(k, src.Len())} }

type head struct {
	Images
	n int
}

func (h head) Len() int { return h.n }

func (h head) Read(dst []float32, start, n int) error {
	if start < 0 || n < 0 || start+n > h.n {
		return fmt.Errorf("calibrate: read of images [%d, %d) of the first %d", start, start+n, h.n)
	}
	return h.Images.Read(dst, start, n)
}

// batches reads src in batches of at most batch images of per values each
// and calls f with the first image's index, the count and the values; the
// buffer is reused, so f must not keep it. It checks ctx before every
// batch and returns ctx.Err() (wrapped) once it is done.
func batches(ctx context.Context, src Images, per, batch int, f func(first, k int, x []float32) error) error {
	if batch < 1 {
		return fmt.Errorf("calibrate: batch size %d, must be at least 1", batch)
	}
	n := src.Len()
	buf := make([]float32, min(batch, n)*per)
	for start := 0; start < n; start += batch {
		k := min(batch, n-start)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("calibrate: images %d..%d: %w", start, start+k-1, err)
		}
		x := buf[:k*per]
		if err := src.Read(x, start, k); err != nil {
			return fmt.Errorf("calibrate: images %d..%d: %w", start, start+k-1, err)
		}
		if err := f(start, k, x); err != nil {
			return err
		}
	}
	return nil
}

// forwardImages bounds the images one ANN forward pass runs between two
// checks of the context: a pass of 16 CIFAR images through VGG-16 takes
// about 70 ms on two loaded cores, 64 about 200 ms. Results do not depend
// on it.
const forwardImages = 16

// forward runs the k images x (per values each) through ex, at most
// forwardImages at a time, in image order, and calls f with the index of
// the first image of each pass (within x) and its kept values. It checks
// ctx before every pass and returns ctx.Err() (wrapped) once it is done.
func forward(ctx context.Context, ex Executor, x []float32, k, per int, names []string, f func(first int, kept map[string]*importer.Tensor) error) error {
	for first := 0; first < k; first += forwardImages {
		j := min(forwardImages, k-first)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("calibrate: ANN pass: %w", err)
		}
		_, kept, err := ex.Forward(x[first*per:(first+j)*per], j, names)
		if err != nil {
			return fmt.Errorf("calibrate: ANN pass: %w", err)
		}
		if err := checkKept(kept, names, j); err != nil {
			return err
		}
		if err := f(first, kept); err != nil {
			return err
		}
	}
	return nil
}

// checkKept checks what an Executor's Forward returned for n images: a
// tensor for every name, with the batch as its first dimension and as
// many values as its shape says, so that an executor of the caller's that
// breaks the contract is an error, not a crash.
func checkKept(kept map[string]*importer.Tensor, names []string, n int) error {
	for _, name := range names {
		t := kept[name]
		switch {
		case t == nil:
			return fmt.Errorf("calibrate: the ANN executor returned no value %q", name)
		case len(t.Shape) == 0 || t.Shape[0] != n || len(t.Data) != importer.NumElements(t.Shape):
			return fmt.Errorf("calibrate: the ANN executor returned %q with shape %v and %d values for %d images", name, t.Shape, len(t.Data), n)
		}
	}
	return nil
}

// Sample summarises the activations of one ANN value over the calibration
// images, split by channel, in memory that does not grow with the number
// of images: Layer summarises the positive values of all channels,
// Channel[c] (only when collected per channel) those of channel c, and
// Count[c] is the number of values of channel c (zeros and negatives
// included). Vectors ([N,F]) have one channel per feature.
type Sample struct {
	Layer   *Hist
	Channel []*Hist
	Count   []int
}

// Channels returns the number of channels.
func (s *Sample) Channels() int { return len(s.Count) }

// CollectOptions control Collect. The zero value collects per layer in
// batches of 64.
type CollectOptions struct {
	// Batch is the number of images run through the ANN at once; 0
	// means 64. Memory grows with it; results do not depend on it.
	Batch int
	// PerChannel also keeps one histogram per channel (for per-channel
	// thresholds), at ChannelBits resolution.
	PerChannel bool
	// MaxBytes bounds the ANN values one batch keeps (4 bytes per kept
	// value per image): the batch shrinks to fit, down to one image. 0
	// means DefaultMaxBytes.
	MaxBytes int
}

// DefaultMaxBytes is CollectOptions.MaxBytes's default, 256 MiB: 64 CIFAR
// images of a VGG-16 fit, ResNet-18 at 224×224 (9.2 MB kept per image)
// runs 29 at a time.
const DefaultMaxBytes = 256 << 20

// fitBatch returns the largest batch ≤ batch (at least 1) whose values
// named in names take at most maxBytes as float32.
func fitBatch(ex Executor, names []string, batch, maxBytes int) (int, error) {
	if ex == nil {
		return 0, fmt.Errorf("calibrate: no ANN executor")
	}
	if batch < 1 {
		return 0, fmt.Errorf("calibrate: batch size %d, must be at least 1", batch)
	}
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	shapes, err := ex.Graph().InferShapes(append([]int{1}, ex.InputShape()...))
	if err != nil {
		return 0, fmt.Errorf("calibrate: %w", err)
	}
	per := 0
	for _, name := range names {
		sh, ok := shapes[name]
		if !ok {
			return 0, fmt.Errorf("calibrate: %q is not a value of the graph", name)
		}
		per += 4 * importer.NumElements(sh)
	}
	if per == 0 {
		return batch, nil
	}
	return max(1, min(batch, maxBytes/per)), nil
}

// Collect runs the images of src through ex, one batch at a time, and
// summarises the values named in names; src must hold at least one image.
// Only one batch of images and its
// kept values are in memory at once (opt.Batch images, fewer if their kept
// values would exceed opt.MaxBytes); the summaries are the same for every
// batch size and worker count. Collect checks ctx between reads, ANN
// passes and images, and returns ctx.Err() (wrapped) once it is done.
func Collect(ctx context.Context, ex Executor, src Images, names []string, opt CollectOptions) (map[string]*Sample, error) {
	if src.Len() < 1 {
		return nil, fmt.Errorf("calibrate: no calibration images")
	}
	if opt.Batch <= 0 {
		opt.Batch = 64
	}
	batch, err := fitBatch(ex, names, opt.Batch, opt.MaxBytes)
	if err != nil {
		return nil, err
	}
	per := importer.NumElements(ex.InputShape())
	out := make(map[string]*Sample, len(names))
	err = batches(ctx, src, per, batch, func(_, k int, x []float32) error {
		return forward(ctx, ex, x, k, per, names, func(_ int, kept map[string]*importer.Tensor) error {
			return collectPass(ctx, out, kept, names, opt.PerChannel)
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// collectPass adds the kept values of one ANN pass to out.
func collectPass(ctx context.Context, out map[string]*Sample, kept map[string]*importer.Tensor, names []string, perChannel bool) error {
	for _, name := range names {
		t := kept[name]
		s := out[name]
		if s == nil {
			c := 1
			if len(t.Shape) > 1 {
				c = t.Shape[1]
			}
			s = &Sample{Layer: NewHist(LayerBits, LayerExact), Count: make([]int, c)}
			if perChannel {
				s.Channel = make([]*Hist, c)
				for i := range s.Channel {
					s.Channel[i] = NewHist(ChannelBits, ChannelExact)
				}
			}
			out[name] = s
		}
		if err := s.add(ctx, t); err != nil {
			return fmt.Errorf("calibrate: summarising %q: %w", name, err)
		}
	}
	return nil
}

// add adds one batch of values, image by image and channel by channel; it
// checks ctx before every image.
func (s *Sample) add(ctx context.Context, t *importer.Tensor) error {
	c := len(s.Count)
	inner := 1
	for _, d := range t.Shape[2:] {
		inner *= d
	}
	for i := 0; i < t.Shape[0]; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for ch := range c {
			vals := t.Data[(i*c+ch)*inner : (i*c+ch+1)*inner]
			s.Count[ch] += len(vals)
			s.Layer.Add(vals)
			if s.Channel != nil {
				s.Channel[ch].Add(vals)
			}
		}
	}
	return nil
}

// Threshold returns θ for the sample: one value (perChannel false) from all
// channels pooled, or one per channel. A channel without positive values
// gets the layer-wide threshold; a layer without any gets 1. Per channel
// needs a Sample collected with CollectOptions.PerChannel. The search
// checks ctx before every histogram it searches and returns ctx.Err()
// (wrapped) once it is done.
func (s *Sample) Threshold(ctx context.Context, norm Norm, perChannel bool) ([]float32, error) {
	layer, err := s.Layer.threshold(ctx, norm)
	if err != nil {
		return nil, fmt.Errorf("calibrate: threshold search: %w", err)
	}
	if layer <= 0 {
		layer = 1
	}
	if !perChannel {
		return []float32{layer}, nil
	}
	if s.Channel == nil {
		return nil, fmt.Errorf("calibrate: per-channel thresholds of a sample collected per layer")
	}
	th := make([]float32, len(s.Channel))
	for c, h := range s.Channel {
		if th[c], err = h.threshold(ctx, norm); err != nil {
			return nil, fmt.Errorf("calibrate: threshold search, channel %d: %w", c, err)
		}
		if th[c] <= 0 {
			th[c] = layer
		}
	}
	return th, nil
}
