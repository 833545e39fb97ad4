package dataset

import (
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
)

// Dataset is N images of shape [C,H,W] with integer labels.
//
// Pixels are kept as stored: raw uint8 for image formats (IDX, CIFAR-10,
// uint8 .npy) or float32 for other .npy data, or, for an image folder
// (LoadImageFolder), left in their files and decoded to uint8 by Batch.
// Batch converts them to float32 on demand. A Dataset is immutable after
// construction and safe for concurrent use.
type Dataset struct {
	c, h, w int
	n       int
	u8      []uint8     // n*c*h*w raw pixels, or nil
	f32     []float32   // n*c*h*w float pixels, or nil
	files   *imageFiles // n image files decoded on demand, or nil
	labels  []int       // n labels, or nil when unlabeled
	classes []string    // class names by label (image folders), or nil
}

// FromUint8 returns a Dataset of len(labels) images of shape [c,h,w] whose
// pixels, image after image in CHW order, are pix. labels may be nil for an
// unlabeled set, in which case the image count is len(pix)/(c*h*w). The
// Dataset keeps pix and labels; the caller must not modify them afterwards.
func FromUint8(c, h, w int, pix []uint8, labels []int) (*Dataset, error) {
	n, err := checkShape(c, h, w, len(pix), labels)
	if err != nil {
		return nil, err
	}
	if pix == nil {
		pix = []uint8{}
	}
	return &Dataset{c: c, h: h, w: w, n: n, u8: pix, labels: labels}, nil
}

// FromFloat32 is FromUint8 for float pixels. It returns an error naming
// the first image that holds a NaN or ±Inf: data are checked once here,
// not found wrong after an evaluation or an epoch.
func FromFloat32(c, h, w int, pix []float32, labels []int) (*Dataset, error) {
	n, err := checkShape(c, h, w, len(pix), labels)
	if err != nil {
		return nil, err
	}
	if err := checkFinite(pix, c*h*w); err != nil {
		return nil, err
	}
	if pix == nil {
		pix = []float32{}
	}
	return &Dataset{c: c, h: h, w: w, n: n, f32: pix, labels: labels}, nil
}

// checkFinite returns an error naming the first image (of size values)
// of pix that holds a NaN or ±Inf.
func checkFinite(pix []float32, size int) error {
	for i, v := range pix {
		if v != v || v > math.MaxFloat32 || v < -math.MaxFloat32 {
			return fmt.Errorf("dataset: image %d holds %v (value %d of the image): not finite", i/size, v, i%size)
		}
	}
	return nil
}

func checkShape(c, h, w, npix int, labels []int) (int, error) {
	if c <= 0 || h <= 0 || w <= 0 {
		return 0, fmt.Errorf("dataset: invalid image shape [%d,%d,%d]", c, h, w)
	}
	hi, size := bits.Mul64(uint64(c), uint64(h))
	if hi == 0 {
		hi, size = bits.Mul64(size, uint64(w))
	}
	if hi != 0 || size > uint64(maxInt) {
		return 0, fmt.Errorf("dataset: image shape [%d,%d,%d] too large", c, h, w)
	}
	if npix%int(size) != 0 {
		return 0, fmt.Errorf("dataset: %d pixels is not a whole number of [%d,%d,%d] images", npix, c, h, w)
	}
	n := npix / int(size)
	if labels != nil && len(labels) != n {
		return 0, fmt.Errorf("dataset: %d images but %d labels", n, len(labels))
	}
	for i, l := range labels {
		if l < 0 {
			return 0, fmt.Errorf("dataset: label %d is negative (%d)", i, l)
		}
	}
	return n, nil
}

// Len returns the number of images.
func (d *Dataset) Len() int { return d.n }

// Shape returns the image shape [C,H,W].
func (d *Dataset) Shape() [3]int { return [3]int{d.c, d.h, d.w} }

// ImageSize returns C*H*W, the number of float32 values Batch writes per image.
func (d *Dataset) ImageSize() int { return d.c * d.h * d.w }

// IsFloat reports whether pixels are stored as float32 rather than as
// uint8 pixels (in memory or in image files).
func (d *Dataset) IsFloat() bool { return d.f32 != nil }

// FromFiles reports whether images are decoded from image files by each
// Batch call rather than held in memory.
func (d *Dataset) FromFiles() bool { return d.files != nil }

// ClassNames returns the class names by label of an image folder (the
// caller must not modify them), or nil for other data sets.
func (d *Dataset) ClassNames() []string { return d.classes }

// FloatRange returns the smallest and largest stored value of a float
// Dataset (NaN is ignored), and ok = false for pixel data or no images.
func (d *Dataset) FloatRange() (lo, hi float32, ok bool) {
	for _, v := range d.f32 {
		if v != v {
			continue
		}
		if !ok {
			lo, hi, ok = v, v, true
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi, ok
}

// Labeled reports whether the images have labels.
func (d *Dataset) Labeled() bool { return d.labels != nil }

// Label returns the label of image i, or -1 for an unlabeled Dataset.
// It panics if i is out of range.
func (d *Dataset) Label(i int) int {
	if i < 0 || i >= d.n {
		panic(fmt.Sprintf("dataset: Label index %d out of range [0,%d)", i, d.n))
	}
	if d.labels == nil {
		return -1
	}
	return d.labels[i]
}

// NumClasses returns 1 + the largest label, or 0 for an unlabeled or empty
// Dataset.
func (d *Dataset) NumClasses() int {
	m := -1
	for _, l := range d.labels {
		m = max(m, l)
	}
	return m + 1
}

// Batch writes images [start, start+n) into dst as NCHW float32, applying
// pre to each value: x = (v*pre.Scale - pre.Mean[c]) / pre.Std[c] (see
// Preprocess). It returns dst[:n*ImageSize()]. len(dst) must be at least
// n*ImageSize(); dst is not grown. For images held in memory Batch does
// not allocate; for an image folder it reads and decodes each image file,
// which allocates.
//
// It returns an error if the range is outside [0, Len()), dst is too short,
// pre does not fit the channel count, or (image folder) a file cannot be
// read, decoded, or has the wrong size; such an error names the file.
func (d *Dataset) Batch(dst []float32, start, n int, pre Preprocess) ([]float32, error) {
	if start < 0 || n < 0 || start > d.n-n {
		return nil, fmt.Errorf("dataset: batch [%d,%d+%d) out of range [0,%d)", start, start, n, d.n)
	}
	size := d.ImageSize()
	need := n * size
	if len(dst) < need {
		return nil, fmt.Errorf("dataset: batch of %d images needs %d floats, dst has %d", n, need, len(dst))
	}
	if err := pre.Validate(d.c); err != nil {
		return nil, err
	}
	dst = dst[:need]
	if d.files != nil {
		return dst, d.batchFiles(dst, start, n, pre)
	}
	plane := d.h * d.w
	for ch := 0; ch < d.c; ch++ {
		scale, mean, std := pre.channel(ch)
		if d.u8 != nil {
			// A lookup table evaluates the documented formula exactly,
			// in float32, for each of the 256 pixel values.
			var lut [256]float32
			for v := range lut {
				lut[v] = (float32(v)*scale - mean) / std
			}
			for i := 0; i < n; i++ {
				src := d.u8[(start+i)*size+ch*plane:][:plane]
				out := dst[i*size+ch*plane:][:plane]
				for j, p := range src {
					out[j] = lut[p]
				}
			}
			continue
		}
		for i := 0; i < n; i++ {
			src := d.f32[(start+i)*size+ch*plane:][:plane]
			out := dst[i*size+ch*plane:][:plane]
			for j, v := range src {
				out[j] = (v*scale - mean) / std
			}
		}
	}
	return dst, nil
}

// batchFiles is Batch for an image folder: it decodes each file into
// uint8 pixels and maps them through one lookup table per channel. Files
// are decoded by up to GOMAXPROCS goroutines; the error returned is that
// of the first failing image in index order, whatever the scheduling.
func (d *Dataset) batchFiles(dst []float32, start, n int, pre Preprocess) error {
	size, plane := d.ImageSize(), d.h*d.w
	luts := make([][256]float32, d.c)
	for ch := range luts {
		scale, mean, std := pre.channel(ch)
		for v := range luts[ch] {
			luts[ch][v] = (float32(v)*scale - mean) / std
		}
	}
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(n, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pix := make([]uint8, size)
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if errs[i] = d.files.load(pix, start+i, d.w, d.h); errs[i] != nil {
					continue
				}
				out := dst[i*size : (i+1)*size]
				for j, p := range pix {
					out[j] = luts[j/plane][p]
				}
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// First returns a Dataset of the first min(n, Len()) images (none for
// n <= 0). It shares memory with d.
func (d *Dataset) First(n int) *Dataset {
	n = max(0, min(n, d.n))
	s := *d
	s.n = n
	size := d.ImageSize()
	if s.u8 != nil {
		s.u8 = s.u8[: n*size : n*size]
	}
	if s.f32 != nil {
		s.f32 = s.f32[: n*size : n*size]
	}
	if s.files != nil {
		f := *s.files
		f.paths = f.paths[:n:n]
		s.files = &f
	}
	if s.labels != nil {
		s.labels = s.labels[:n:n]
	}
	return &s
}

// Subset returns a new Dataset holding copies of images idx[0], idx[1], ...
// in that order. It returns an error if an index is out of range.
func (d *Dataset) Subset(idx []int) (*Dataset, error) {
	size := d.ImageSize()
	s := &Dataset{c: d.c, h: d.h, w: d.w, n: len(idx), classes: d.classes}
	switch {
	case d.files != nil:
		f := *d.files
		f.paths = make([]string, len(idx))
		s.files = &f
	case d.u8 != nil:
		s.u8 = make([]uint8, len(idx)*size)
	default:
		s.f32 = make([]float32, len(idx)*size)
	}
	if d.labels != nil {
		s.labels = make([]int, len(idx))
	}
	for k, i := range idx {
		if i < 0 || i >= d.n {
			return nil, fmt.Errorf("dataset: subset index %d (position %d) out of range [0,%d)", i, k, d.n)
		}
		switch {
		case d.files != nil:
			s.files.paths[k] = d.files.paths[i]
		case d.u8 != nil:
			copy(s.u8[k*size:(k+1)*size], d.u8[i*size:])
		default:
			copy(s.f32[k*size:(k+1)*size], d.f32[i*size:])
		}
		if d.labels != nil {
			s.labels[k] = d.labels[i]
		}
	}
	return s, nil
}

// Sample returns min(k, Len()) distinct image indices drawn uniformly at
// random without replacement, in the order drawn. The result depends only
// on k, Len() and seed: it is a partial Fisher-Yates shuffle driven by a
// math/rand/v2 PCG seeded with (seed, 0x616e6e32736e6e) and a fixed
// bounded-integer method, so it is stable across Go releases.
// The caller owns the returned slice.
func (d *Dataset) Sample(k int, seed uint64) []int {
	return sample(d.n, k, seed)
}

func sample(n, k int, seed uint64) []int {
	k = max(0, min(k, n))
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	r := rand.NewPCG(seed, 0x616e6e32736e6e) // "ann2snn"
	for i := 0; i < k; i++ {
		j := i + int(uniform(r, uint64(n-i)))
		perm[i], perm[j] = perm[j], perm[i]
	}
	return perm[:k:k]
}

// uniform returns a uniform integer in [0, n), n > 0, by Lemire's
// multiply-and-reject method.
func uniform(r *rand.PCG, n uint64) uint64 {
	for {
		hi, lo := bits.Mul64(r.Uint64(), n)
		if lo < n && lo < -n%n {
			continue
		}
		return hi
	}
}
