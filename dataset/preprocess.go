package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Keys of ONNX metadata_props that describe how a model expects its input
// to be preprocessed (all optional). See PreprocessFromMeta.
const (
	MetaDataset = "ann2snn.dataset" // mnist | fashion-mnist | cifar10
	MetaScale   = "ann2snn.scale"   // factor applied to raw 0..255 pixels
	MetaMean    = "ann2snn.mean"    // comma-separated per-channel means
	MetaStd     = "ann2snn.std"     // comma-separated per-channel stds
	MetaResize  = "ann2snn.resize"  // shorter image side after resizing (ImageOptions.Resize)
	MetaCrop    = "ann2snn.crop"    // side of the centre crop (ImageOptions.Crop)
)

// Preprocess maps a stored pixel value v of channel c to the network input
//
//	x = (v*Scale - Mean[c]) / Std[c]
//
// computed in float32. To take 0..255 pixels to [0,1], set Scale to 1/255
// (ann2snn.scale = 0.00392156862745098); torchvision's ToTensor followed by
// Normalize(mean, std) is Scale 1/255 with that Mean and Std.
//
// The zero value is the identity: the raw pixel values 0..255 (or the
// stored floats) unchanged.
type Preprocess struct {
	// Scale multiplies raw values before Mean is subtracted; 0 means 1.
	Scale float32
	// Mean holds one value per channel, or one value for all channels;
	// empty means 0.
	Mean []float32
	// Std holds one value per channel, or one value for all channels;
	// empty means 1. Values must be nonzero.
	Std []float32
}

// Validate reports whether p can be applied to images with the given number
// of channels: Mean and Std have 0, 1 or channels values, all finite, and
// every Std is positive.
func (p Preprocess) Validate(channels int) error {
	if math.IsNaN(float64(p.Scale)) || math.IsInf(float64(p.Scale), 0) {
		return fmt.Errorf("dataset: preprocess scale %v is not finite", p.Scale)
	}
	for _, f := range []struct {
		name string
		v    []float32
	}{{"mean", p.Mean}, {"std", p.Std}} {
		if n := len(f.v); n > 1 && n != channels {
			return fmt.Errorf("dataset: preprocess has %d %s values for %d channels", n, f.name, channels)
		}
		for i, v := range f.v {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("dataset: preprocess %s[%d] = %v is not finite", f.name, i, v)
			}
			if f.name == "std" && v <= 0 {
				return fmt.Errorf("dataset: preprocess std[%d] is %v, want > 0", i, v)
			}
		}
	}
	return nil
}

// Value returns the network input for stored value v of channel c,
// (v*Scale - Mean[c]) / Std[c], as Batch computes it. p must be valid for
// the channel count (see Validate).
func (p Preprocess) Value(c int, v float32) float32 {
	scale, mean, std := p.channel(c)
	return (v*scale - mean) / std
}

// channel returns the scale, mean and std for channel c; p must be valid.
func (p Preprocess) channel(c int) (scale, mean, std float32) {
	scale = p.Scale
	if scale == 0 {
		scale = 1
	}
	return scale, perChannel(p.Mean, c, 0), perChannel(p.Std, c, 1)
}

// perChannel returns the value of channel c in vals: none (def), one for
// every channel, or one per channel.
func perChannel(vals []float32, c int, def float32) float32 {
	switch len(vals) {
	case 0:
		return def
	case 1:
		return vals[0]
	}
	return vals[c]
}

// PreprocessFromMeta reads the keys MetaScale, MetaMean and MetaStd of ONNX
// metadata_props. It reports whether any of them is present; absent keys
// leave the zero value's default. It returns an error, naming the key, if a
// value does not parse or Std holds a 0.
func PreprocessFromMeta(meta map[string]string) (Preprocess, bool, error) {
	var p Preprocess
	found := false
	if s, ok := meta[MetaScale]; ok {
		found = true
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return Preprocess{}, true, fmt.Errorf("dataset: metadata %s = %q: not a finite number", MetaScale, s)
		}
		p.Scale = float32(v)
	}
	for _, k := range []struct {
		key string
		dst *[]float32
	}{{MetaMean, &p.Mean}, {MetaStd, &p.Std}} {
		s, ok := meta[k.key]
		if !ok {
			continue
		}
		found = true
		v, err := ParseFloats(s)
		if err != nil {
			return Preprocess{}, true, fmt.Errorf("dataset: metadata %s: %w", k.key, err)
		}
		*k.dst = v
	}
	for i, v := range p.Std {
		if v == 0 {
			return Preprocess{}, true, fmt.Errorf("dataset: metadata %s: value %d is 0", MetaStd, i)
		}
	}
	return p, found, nil
}

// ImageOptionsFromMeta reads the keys MetaResize and MetaCrop of ONNX
// metadata_props (decimal integers >= 0; 0 or absent means no resize or
// crop). It reports whether either is present and returns an error, naming
// the key, for a value that does not parse.
func ImageOptionsFromMeta(meta map[string]string) (ImageOptions, bool, error) {
	var o ImageOptions
	found := false
	for _, k := range []struct {
		key string
		dst *int
	}{{MetaResize, &o.Resize}, {MetaCrop, &o.Crop}} {
		s, ok := meta[k.key]
		if !ok {
			continue
		}
		found = true
		v, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || v < 0 {
			return ImageOptions{}, true, fmt.Errorf("dataset: metadata %s = %q: not an integer >= 0", k.key, s)
		}
		*k.dst = v
	}
	if err := o.validate(); err != nil {
		return ImageOptions{}, true, fmt.Errorf("dataset: metadata: %w", err)
	}
	return o, found, nil
}

// ParseScale parses a pixel multiplier: a finite number ("0.0039") or a
// fraction of two ("1/255"). The fraction is computed in float64 and then
// rounded to float32.
func ParseScale(s string) (float32, error) {
	s = strings.TrimSpace(s)
	num, den, frac := strings.Cut(s, "/")
	a, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	b := 1.0
	if err == nil && frac {
		b, err = strconv.ParseFloat(strings.TrimSpace(den), 64)
	}
	v := a / b
	if err != nil || b == 0 || math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
		return 0, fmt.Errorf("dataset: scale %q is not a finite number or fraction such as 1/255", s)
	}
	return float32(v), nil
}

// ParseFloats parses a comma-separated list of finite numbers such as
// "0.4914, 0.4822, 0.4465"; spaces around values and one pair of
// surrounding brackets ("[...]" or "(...)") are allowed. An empty (or
// all-space) string gives nil.
func ParseFloats(s string) ([]float32, error) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '[' && s[len(s)-1] == ']' || s[0] == '(' && s[len(s)-1] == ')') {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	out := make([]float32, len(parts))
	for i, part := range parts {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 32)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("dataset: value %d of %q is not a finite number", i, s)
		}
		out[i] = float32(v)
	}
	return out, nil
}
