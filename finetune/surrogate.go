package finetune

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Surrogate replaces the derivative of the Heaviside step H(x) of a spiking
// neuron in the backward pass. The argument is the normalised membrane
// x = u/θ − 1 (x ≥ 0 fires), so one width or sharpness suits every layer
// whatever its threshold.
//
// Each surrogate is the derivative of a smooth step, its Primitive:
// Primitive is non-decreasing from 0 (x → −∞) to 1 (x → +∞) and
// Grad(x) = d Primitive(x)/dx. Replacing H by Primitive in the forward pass
// gives a network whose exact gradient is the surrogate gradient
// (Config.Smooth), which is how the gradients are tested.
type Surrogate interface {
	// Grad returns the surrogate derivative g(x) ≥ 0.
	Grad(x float32) float32
	// Primitive returns the smooth step whose derivative is Grad.
	Primitive(x float32) float32
	// String returns the flag form, e.g. "atan:2".
	String() string
}

// Compile-time interface checks.
var (
	_ Surrogate = Rectangular{}
	_ Surrogate = Sigmoid{}
	_ Surrogate = Arctan{}
	_ Surrogate = Triangle{}
	_ Surrogate = Scaled{}
)

// Rectangular is the box surrogate g(x) = 1/Width for |x| < Width/2, else
// 0; its primitive is the ramp clip(x/Width + 1/2, 0, 1). Width > 0.
type Rectangular struct{ Width float32 }

// Grad returns 1/Width inside the box, 0 outside.
func (r Rectangular) Grad(x float32) float32 {
	if 2*abs32(x) < r.Width {
		return 1 / r.Width
	}
	return 0
}

// Primitive returns clip(x/Width + 1/2, 0, 1).
func (r Rectangular) Primitive(x float32) float32 {
	return min(max(x/r.Width+0.5, 0), 1)
}

// String returns "rect:WIDTH".
func (r Rectangular) String() string { return "rect:" + ftoa(r.Width) }

// Sigmoid is the logistic surrogate: Primitive(x) = σ(Alpha·x) =
// 1/(1+exp(−Alpha·x)), g(x) = Alpha·σ(Alpha·x)·(1−σ(Alpha·x)). Alpha > 0
// is the sharpness.
type Sigmoid struct{ Alpha float32 }

// Grad returns Alpha·σ(Alpha·x)·(1−σ(Alpha·x)).
func (s Sigmoid) Grad(x float32) float32 {
	p := s.Primitive(x)
	return s.Alpha * p * (1 - p)
}

// Primitive returns σ(Alpha·x).
func (s Sigmoid) Primitive(x float32) float32 {
	return float32(1 / (1 + math.Exp(-float64(s.Alpha)*float64(x))))
}

// String returns "sigmoid:ALPHA".
func (s Sigmoid) String() string { return "sigmoid:" + ftoa(s.Alpha) }

// Arctan is the arc-tangent surrogate of SpikingJelly:
// Primitive(x) = arctan(π/2·Alpha·x)/π + 1/2,
// g(x) = (Alpha/2) / (1 + (π/2·Alpha·x)²). Alpha > 0 is the sharpness.
type Arctan struct{ Alpha float32 }

// Grad returns (Alpha/2) / (1 + (π/2·Alpha·x)²).
func (a Arctan) Grad(x float32) float32 {
	z := math.Pi / 2 * a.Alpha * x
	return a.Alpha / 2 / (1 + z*z)
}

// Primitive returns arctan(π/2·Alpha·x)/π + 1/2.
func (a Arctan) Primitive(x float32) float32 {
	return float32(math.Atan(math.Pi/2*float64(a.Alpha)*float64(x))/math.Pi + 0.5)
}

// String returns "atan:ALPHA".
func (a Arctan) String() string { return "atan:" + ftoa(a.Alpha) }

// Triangle is the triangular surrogate of half-width Width > 0:
// g(x) = max(0, 1 − |x|/Width)/Width. Its primitive is 0 below −Width,
// (x+Width)²/(2·Width²) up to 0, 1 − (Width−x)²/(2·Width²) up to Width and
// 1 above.
type Triangle struct{ Width float32 }

// Grad returns max(0, 1 − |x|/Width)/Width.
func (t Triangle) Grad(x float32) float32 {
	return max(0, 1-abs32(x)/t.Width) / t.Width
}

// Primitive returns the piecewise-quadratic smooth step.
func (t Triangle) Primitive(x float32) float32 {
	w := t.Width
	switch {
	case x <= -w:
		return 0
	case x <= 0:
		return (x + w) * (x + w) / (2 * w * w)
	case x < w:
		return 1 - (w-x)*(w-x)/(2*w*w)
	}
	return 1
}

// String returns "triangle:WIDTH".
func (t Triangle) String() string { return "triangle:" + ftoa(t.Width) }

// ParseSurrogate parses "NAME" or "NAME:PARAM" with NAME one of rect,
// sigmoid, atan, triangle and PARAM the width (rect, triangle) or the
// sharpness (sigmoid, atan). Defaults: rect:1, sigmoid:4, atan:2,
// triangle:1.
func ParseSurrogate(s string) (Surrogate, error) {
	name, param, hasParam := strings.Cut(strings.TrimSpace(s), ":")
	defaults := map[string]float32{"rect": 1, "sigmoid": 4, "atan": 2, "triangle": 1}
	p, ok := defaults[name]
	if !ok {
		return nil, fmt.Errorf("finetune: unknown surrogate %q (want rect, sigmoid, atan or triangle, optionally :PARAM)", s)
	}
	if hasParam {
		v, err := strconv.ParseFloat(param, 32)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("finetune: surrogate %q: parameter must be a finite number > 0", s)
		}
		p = float32(v)
	}
	switch name {
	case "rect":
		return Rectangular{p}, nil
	case "sigmoid":
		return Sigmoid{p}, nil
	case "atan":
		return Arctan{p}, nil
	}
	return Triangle{p}, nil
}

// Scaled is surrogate S stretched to A times its width (A > 0):
// Grad(x) = S.Grad(x/A)/A and Primitive(x) = S.Primitive(x/A), so its
// integral stays 1. Widen returns the built-in surrogates scaled in their
// own parameter instead.
type Scaled struct {
	S Surrogate
	A float32
}

// Grad returns S.Grad(x/A)/A.
func (s Scaled) Grad(x float32) float32 { return s.S.Grad(x/s.A) / s.A }

// Primitive returns S.Primitive(x/A).
func (s Scaled) Primitive(x float32) float32 { return s.S.Primitive(x / s.A) }

// String returns "S*A", e.g. "atan:2*1.5".
func (s Scaled) String() string { return s.S.String() + "*" + ftoa(s.A) }

// Widen returns s stretched to a times its width (a > 0; a = 1 returns s):
// the width of Rectangular and Triangle is multiplied by a, the sharpness
// of Sigmoid and Arctan divided by it, and any other surrogate is wrapped
// in Scaled. In every case Widen(s, a).Grad(x) = s.Grad(x/a)/a.
func Widen(s Surrogate, a float32) Surrogate {
	if a == 1 {
		return s
	}
	switch s := s.(type) {
	case Rectangular:
		return Rectangular{s.Width * a}
	case Triangle:
		return Triangle{s.Width * a}
	case Sigmoid:
		return Sigmoid{s.Alpha / a}
	case Arctan:
		return Arctan{s.Alpha / a}
	}
	return Scaled{s, a}
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

func ftoa(v float32) string { return strconv.FormatFloat(float64(v), 'g', -1, 32) }

// gradsInto sets dst[j] = s.Grad(x[j]) for all j; the built-in surrogates
// do it without a dynamic call per element.
func gradsInto(s Surrogate, dst, x []float32) {
	switch s := s.(type) {
	case Arctan:
		for j, v := range x {
			z := math.Pi / 2 * s.Alpha * v
			dst[j] = s.Alpha / 2 / (1 + z*z)
		}
	case Rectangular:
		for j, v := range x {
			dst[j] = s.Grad(v)
		}
	case Sigmoid:
		for j, v := range x {
			dst[j] = s.Grad(v)
		}
	case Triangle:
		for j, v := range x {
			dst[j] = s.Grad(v)
		}
	default:
		for j, v := range x {
			dst[j] = s.Grad(v)
		}
	}
}
